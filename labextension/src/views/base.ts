// What every nbgrad view shares: a model class naming itself (the names the Python class syncs
// as _model_name/_view_name), and a view that redraws from the model's data on every change.
import { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import { MODULE_NAME, MODULE_VERSION } from '../frontend';

export function modelDefaults(name: string): Record<string, unknown> {
  return {
    _model_name: `${name}Model`,
    _view_name: name,
    _model_module: MODULE_NAME,
    _model_module_version: MODULE_VERSION,
    _view_module: MODULE_NAME,
    _view_module_version: MODULE_VERSION,
  };
}

export abstract class NbgradView extends DOMWidgetView {
  render(): void {
    this.el.classList.add('nbgrad-widget', `nbgrad-${this.kind}`);
    this.listenTo(this.model, 'change', () => this.draw());
    this.draw();
  }

  /** A css-friendly name of the widget ('training', 'graph', ...). */
  protected abstract get kind(): string;

  /** Redraw everything from the model's traits. */
  protected abstract draw(): void;

  protected get<T>(name: string): T {
    return this.model.get(name) as T;
  }

  /** Write a trait back to the kernel (the Python side observes it). */
  protected set(name: string, value: unknown): void {
    this.model.set(name, value);
    this.model.save_changes();
  }

  /** Ask the kernel to do something (the Python side handles custom messages). */
  protected request(content: Record<string, string | number | null>): void {
    this.model.send(content, {});
  }
}

export { DOMWidgetModel };

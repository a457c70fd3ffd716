// The JupyterLab plugin: registers nbgrad's widget views with the ipywidgets manager.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { MODULE_NAME, MODULE_VERSION } from './frontend';
import * as views from './views';
import '../style/index.css';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'nbgrad-widgets:plugin',
  description: "Views of nbgrad's widgets",
  requires: [IJupyterWidgetRegistry],
  autoStart: true,
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry) => {
    registry.registerWidget({ name: MODULE_NAME, version: MODULE_VERSION, exports: views as any });
  },
};

export default plugin;

// Every view and model class, registered under the widgets' module name (plugin.ts).
export { TrainingView, TrainingViewModel } from './training';
export { GraphView, GraphViewModel } from './graph';

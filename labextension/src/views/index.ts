// Every view and model class, registered under the widgets' module name (plugin.ts).
export { TrainingView, TrainingViewModel } from './training';
export { GraphView, GraphViewModel } from './graph';
export { ProfilerView, ProfilerViewModel } from './profiler';
export { GradientView, GradientViewModel } from './gradient';
export { RNGView, RNGViewModel } from './rng';
export { DistributionView, DistributionViewModel } from './distribution';

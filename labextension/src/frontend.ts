// The widgets' front-end name and version: widgets/frontend.json is the one source, read by the
// Python classes (_model_module, _model_module_version) and bundled here.
import spec from '../../widgets/frontend.json';

export const MODULE_NAME: string = spec.module;
export const MODULE_VERSION: string = spec.version;

"""torch.utils.model_zoo: the old home of load_url, kept because model code (torchvision) still
imports it from here. Both names are nbgrad.hub's."""
from ..hub import load_state_dict_from_url as load_url, tqdm  # noqa: F401

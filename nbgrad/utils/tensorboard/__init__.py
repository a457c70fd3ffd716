"""torch.utils.tensorboard: SummaryWriter writes runs that TensorBoard reads (event files in
TensorBoard's format, encoded by nbgrad itself: no protobuf, TensorFlow or Pillow needed)."""
from .writer import FileWriter, SummaryWriter

__all__ = ['FileWriter', 'SummaryWriter']

"""torch.utils.tensorboard: SummaryWriter writes runs that TensorBoard reads (event files in
TensorBoard's format and the projector's files, encoded by nbgrad itself: no protobuf,
TensorFlow or tensorboard package needed). As in PyTorch, add_figure needs matplotlib,
add_image_with_boxes Pillow and add_video moviepy, each imported only when called."""
from .writer import FileWriter, SummaryWriter

__all__ = ['FileWriter', 'SummaryWriter']

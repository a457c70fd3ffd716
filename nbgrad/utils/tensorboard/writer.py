"""SummaryWriter: scalars, histograms, images, figures and text for TensorBoard, in
torch.utils.tensorboard's file layout (TensorBoard reads nbgrad's runs as PyTorch's)."""
import os
import time

from . import _proto, summary
from ._event_file import EventFileWriter


class FileWriter:
    """Events into one directory's event file (add_scalars gives each series its own)."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=''):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs,
                                            filename_suffix)

    def get_logdir(self):
        return self.event_writer.get_logdir()

    def add_summary(self, summary_bytes, global_step=None, walltime=None):
        self.add_event(global_step, walltime, summary=summary_bytes)

    def add_event(self, step=None, walltime=None, **fields):
        wall_time = time.time() if walltime is None else walltime
        self.event_writer.add_event(_proto.event(wall_time, step=step, **fields))

    def flush(self):
        self.event_writer.flush()

    def close(self):
        self.event_writer.close()


def _default_bins():
    """TensorBoard's histogram buckets: +-1e-12 growing by 10% to 1e20, and 0."""
    v, buckets = 1e-12, []
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    return [-b for b in reversed(buckets)] + [0] + buckets


class SummaryWriter:
    def __init__(self, log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=''):
        if not log_dir:
            import socket
            from datetime import datetime
            current_time = datetime.now().strftime('%b%d_%H-%M-%S')
            log_dir = os.path.join('runs', current_time + '_' + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self):
        """The run's writer, made again after close(); purge_step tells TensorBoard to drop
        the events of a crashed run from that step on."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step = self.purge_step
                self.file_writer.add_event(step, file_version='brain.Event:2')
                self.file_writer.add_event(step, session_log=_proto.session_log(
                    _proto.SESSION_START))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        if new_style or double_precision:
            raise NotImplementedError('add_scalar(new_style=True) is not supported yet; the '
                                      'default form is read by TensorBoard the same way.')
        self._get_file_writer().add_summary(summary.scalar(tag, scalar_value), global_step,
                                            walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several series in one chart: each in its own subdirectory main_tag_tag."""
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + '/' + main_tag.replace('/', '_') + '_' + tag
            writer = self.all_writers.get(fw_tag)
            if writer is None:
                writer = self.all_writers[fw_tag] = FileWriter(
                    fw_tag, self.max_queue, self.flush_secs, self.filename_suffix)
            writer.add_summary(summary.scalar(main_tag, scalar_value), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins='tensorflow', walltime=None,
                      max_bins=None):
        if isinstance(bins, str) and bins == 'tensorflow':
            bins = self.default_bins
        self._get_file_writer().add_summary(summary.histogram(tag, values, bins, max_bins),
                                            global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats='CHW'):
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats),
                                            global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats='NCHW'):
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats),
                                            global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        self.add_image(tag, summary.figure_to_image(figure, close), global_step, walltime,
                       dataformats='NCHW' if isinstance(figure, list) else 'CHW')

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary.text(tag, text_string), global_step,
                                            walltime)

    def flush(self):
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        if self.all_writers is None:
            return      # (a second close does nothing)
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


def _not_yet(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f'SummaryWriter.{name} is not supported by nbgrad yet '
                                  f'(scalars, histograms, images, figures and text are).')
    method.__name__ = name
    return method


for _name in ('add_graph', 'add_hparams', 'add_embedding', 'add_pr_curve', 'add_pr_curve_raw',
              'add_video', 'add_audio', 'add_mesh', 'add_custom_scalars',
              'add_custom_scalars_multilinechart', 'add_custom_scalars_marginchart',
              'add_onnx_graph', 'add_image_with_boxes', 'add_histogram_raw'):
    setattr(SummaryWriter, _name, _not_yet(_name))

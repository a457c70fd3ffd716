"""SummaryWriter: scalars, histograms, images, figures, text, hyperparameters, PR curves,
custom scalar layouts, meshes, audio, video, embeddings and model graphs for TensorBoard, in
torch.utils.tensorboard's file layout (TensorBoard reads nbgrad's runs as PyTorch's)."""
import os
import time

from . import _embedding, _graph, _proto, summary
from ._convert_np import make_np
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

    def add_graph(self, graph_profile, walltime=None):
        """A (GraphDef, RunMetadata) pair, both encoded: the graph, then its run metadata."""
        graph, stepstats = graph_profile
        self.add_event(None, walltime, graph_def=graph)
        self.add_event(None, walltime,
                       tagged_run_metadata=_proto.tagged_run_metadata('step1', stepstats))

    def add_onnx_graph(self, graph, walltime=None):
        self.add_event(None, walltime, graph_def=graph)

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

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        """One run of the hparams dashboard: in the subdirectory run_name (default: the current
        time), the experiment, session start (the values) and session end summaries, and each
        metric as a scalar."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError('hparam_dict and metric_dict should be dictionary.')
        experiment, start, end = summary.hparams(hparam_dict, metric_dict,
                                                 hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as run:
            for message in (experiment, start, end):
                run.file_writer.add_summary(message, global_step)
            for k, v in metric_dict.items():
                run.add_scalar(k, v, global_step)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """new_style writes a tensor under the scalars plugin (float64 with double_precision)
        instead of Summary.Value.simple_value; double_precision alone changes nothing, as in
        PyTorch."""
        self._get_file_writer().add_summary(
            summary.scalar(tag, scalar_value, new_style=new_style,
                           double_precision=double_precision), global_step, walltime)

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

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary.tensor_proto(tag, tensor), global_step,
                                            walltime)

    def add_histogram(self, tag, values, global_step=None, bins='tensorflow', walltime=None,
                      max_bins=None):
        if isinstance(bins, str) and bins == 'tensorflow':
            bins = self.default_bins
        self._get_file_writer().add_summary(summary.histogram(tag, values, bins, max_bins),
                                            global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError('len(bucket_limits) != len(bucket_counts), see the document.')
        self._get_file_writer().add_summary(
            summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits,
                                  bucket_counts), global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats='CHW'):
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats),
                                            global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats='NCHW'):
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats),
                                            global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None,
                             rescale=1, dataformats='CHW', labels=None):
        """An image with boxes (N x 4: xmin, ymin, xmax, ymax) drawn on it; labels (one per
        box, else ignored) are written under the boxes. Needs Pillow, as PyTorch does."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        self._get_file_writer().add_summary(
            summary.image_boxes(tag, img_tensor, box_tensor, rescale=rescale,
                                dataformats=dataformats, labels=labels), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        self.add_image(tag, summary.figure_to_image(figure, close), global_step, walltime,
                       dataformats='NCHW' if isinstance(figure, list) else 'CHW')

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Frames (N, T, C, H, W) as a GIF. Needs moviepy, as PyTorch does (without it, PyTorch
        prints so and writes an empty value, and so does nbgrad)."""
        self._get_file_writer().add_summary(summary.video(tag, vid_tensor, fps), global_step,
                                            walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        self._get_file_writer().add_summary(
            summary.audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._get_file_writer().add_summary(summary.text(tag, text_string), global_step,
                                            walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's graph, traced on input_to_model (a tensor or a tuple of tensors).
        use_strict_trace is accepted for PyTorch's signature: nbgrad's recording takes any
        Python containers the model returns."""
        nodes = _graph.trace_nodes(model, input_to_model)
        if verbose:
            print(_graph.describe(nodes))
        self._get_file_writer().add_graph((_graph.graph_def(nodes), _graph.run_metadata()))

    def add_onnx_graph(self, prototxt):
        raise NotImplementedError('SummaryWriter.add_onnx_graph is not supported by nbgrad: it '
                                  'needs the onnx package to read the model. Use add_graph(model, '
                                  'example_inputs) to show an nbgrad model\'s graph.')

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag='default',
                      metadata_header=None):
        """Points for the projector: mat (N x D), optional labels (N, or N rows of columns named
        by metadata_header) and thumbnails label_img (N x C x H x W), saved under
        <log_dir>/<global_step, 5 digits>/<tag>/ and listed in projector_config.pbtxt."""
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f'{str(global_step).zfill(5)}/{_embedding.encode_tag(tag)}'
        log_dir = self._get_file_writer().get_logdir()
        save_path = os.path.join(log_dir, subdir)
        if os.path.exists(save_path):
            if not os.path.isdir(save_path):
                raise NotADirectoryError(f'Path: `{save_path}` exists, but is a file. Cannot '
                                         f'proceed.')
            print('warning: Embedding dir exists, did you set global_step for add_embedding()?')
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError('#labels should equal with #data points')
            _embedding.make_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError('#images should equal with #data points')
            _embedding.make_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError('mat should be 2D, where mat.size(0) is the number of data '
                                 'points')
        _embedding.make_mat(mat, save_path)
        # the config is rewritten whole each time (a file system may not append)
        if not hasattr(self, '_projector_embeddings'):
            self._projector_embeddings = []
        self._projector_embeddings.append(
            _embedding.embedding_info(metadata, label_img, subdir, global_step, tag))
        _embedding.write_pbtxt(log_dir, self._projector_embeddings)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        """A precision-recall curve from binary labels and predicted probabilities in [0, 1]
        (num_thresholds at most 127)."""
        labels, predictions = make_np(labels), make_np(predictions)
        self._get_file_writer().add_summary(
            summary.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step,
            walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds=127, weights=None, walltime=None):
        self._get_file_writer().add_summary(
            summary.pr_curve_raw(tag, true_positive_counts, false_positive_counts,
                                 true_negative_counts, false_negative_counts, precision, recall,
                                 num_thresholds, weights), global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category='default', title='untitled'):
        self.add_custom_scalars({category: {title: ['Multiline', tags]}})

    def add_custom_scalars_marginchart(self, tags, category='default', title='untitled'):
        if len(tags) != 3:
            raise AssertionError(f'Expected 3 tags, got {len(tags)}.')
        self.add_custom_scalars({category: {title: ['Margin', tags]}})

    def add_custom_scalars(self, layout):
        """The custom scalars dashboard's layout: {category: {chart: ['Multiline', tags] or
        ['Margin', [value_tag, lower_tag, upper_tag]]}}, tags as given to add_scalar."""
        self._get_file_writer().add_summary(summary.custom_scalars(layout))

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None,
                 global_step=None, walltime=None):
        """A mesh or point cloud: vertices (B, N, 3), optional colors (B, N, 3) and faces
        (B, F, 3), config_dict the three.js settings (camera, lights, material)."""
        self._get_file_writer().add_summary(
            summary.mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

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


"""RNGView: the state of every nbgrad random number generator, with snapshots to restore and a
demonstration that restoring a state replays the same numbers.

    view = RNGView(); view.snapshot('before epoch'); ...; view.restore('before epoch')

Generators: the CPU generator (mt19937, PyTorch's own: after the same manual_seed and draws its
get_state() bytes are torch.get_rng_state()'s) and, where CUDA is available, each GPU's Philox
generator (state = seed and offset, 16 bytes). The view never starts CUDA itself: GPU generators
are listed only when nbgrad.cuda.is_available(). A fingerprint is a short digest of the state
bytes: two equal fingerprints mean the generator will produce the same numbers.

Snapshots keep nbgrad.get_rng_state() and every GPU generator's state (as
torch.random.fork_rng does) in the Python object; only their labels and fingerprints are synced.

Synced traits (the contract the TypeScript view draws from):
- generators: [{name: 'cpu' | 'cuda:0' ..., kind: 'mt19937' | 'philox', initial_seed: str
  (decimal: seeds reach 2**64, beyond JavaScript's exact integers), fingerprint: str (16 hex
  digits of the SHA-256 of the state bytes), offset: int | null (Philox's counter offset; null
  for the CPU generator), state_bytes: int}], as of the last refresh (every action refreshes).
- snapshots: [{label: str, time: str (ISO 8601, local time), fingerprints: {name: str}}].
- demo: {} until demonstrate(), then {n: int, before: [numbers], after_restore: [numbers],
  equal: bool, fingerprint: str (the CPU state both draws started from)}.
- error: str: what was wrong with the last message from the front end ('' when it worked).

Messages from the front end (buttons): {'action': 'refresh' | 'snapshot' | 'restore' |
'demonstrate', 'index': int (restore), 'label': str (snapshot, or restore by label), 'n': int
(demonstrate)}; a bad message sets `error` and changes nothing.
"""
import datetime
import hashlib

import traitlets

import nbgrad

from ._base import NbgradWidget
from . import _svg


def fingerprint(state):
    """16 hex digits of the SHA-256 of a generator's state tensor."""
    return hashlib.sha256(state.numpy(force=True).tobytes()).hexdigest()[:16]


def _gpu_indices():
    return list(range(nbgrad.cuda.device_count())) if nbgrad.cuda.is_available() else []


def _generators():
    """[(name, Generator)] of every generator nbgrad has: the CPU's and each GPU's."""
    pairs = [('cpu', nbgrad.random.default_generator)]
    pairs.extend((f'cuda:{i}', nbgrad.random.cuda_generator(i)) for i in _gpu_indices())
    return pairs


def _capture():
    """{name: state tensor} of every generator."""
    return {name: gen.get_state() for name, gen in _generators()}


class RNGView(NbgradWidget):
    """Seeds and state fingerprints of nbgrad's generators, snapshots to restore, and a
    draw-restore-draw demonstration."""
    _model_name = traitlets.Unicode('RNGViewModel').tag(sync=True)
    _view_name = traitlets.Unicode('RNGView').tag(sync=True)

    generators = traitlets.List().tag(sync=True)
    snapshots = traitlets.List().tag(sync=True)
    demo = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode('').tag(sync=True)

    def __init__(self):
        super().__init__()
        self._states = []       # the states behind `snapshots`, in the same order
        self.on_msg(self._on_message)
        self.refresh()

    # -- actions ------------------------------------------------------------------------------
    def refresh(self):
        """Read every generator's seed and state again."""
        rows = []
        for name, gen in _generators():
            state = gen.get_state()
            rows.append({'name': name, 'kind': 'mt19937' if name == 'cpu' else 'philox',
                         'initial_seed': str(gen.initial_seed()),
                         'fingerprint': fingerprint(state),
                         'offset': None if name == 'cpu' else int(gen.get_offset()),
                         'state_bytes': int(state.numel())})
        self.generators = rows
        return self

    def snapshot(self, label=None):
        """Keep the state of every generator (nbgrad.get_rng_state() and each GPU's); returns
        its index. label defaults to 'snapshot <index>' and must not repeat an earlier one."""
        if label is None:
            label = f'snapshot {len(self._states)}'
        if not isinstance(label, str) or not label:
            raise ValueError(f'snapshot label must be a non-empty str, got {label!r}')
        if any(s['label'] == label for s in self.snapshots):
            raise ValueError(f'a snapshot is already labelled {label!r}; choose another label '
                             'or restore that one')
        states = _capture()
        self._states.append(states)
        self.snapshots = self.snapshots + [{
            'label': label, 'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'fingerprints': {name: fingerprint(s) for name, s in states.items()}}]
        self.refresh()
        return len(self._states) - 1

    def restore(self, index_or_label=-1):
        """Put every generator back in the state of a snapshot (by index, negative counting
        from the end, or by label). GPUs without a state in the snapshot are left alone."""
        states = self._states[self._find(index_or_label)]
        gpus = dict(_generators())
        for name, state in states.items():
            if name in gpus:
                gpus[name].set_state(state)
        self.refresh()
        return self

    def demonstrate(self, n=5):
        """Snapshot the generators, draw nbgrad.rand(n), restore, draw again: both rows are the
        same numbers. (The generators end up one draw of n further than before.)"""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise ValueError(f'demonstrate: n must be an int in [1, 1000], got {n!r}')
        states = _capture()
        before = nbgrad.rand(n).tolist()
        gpus = dict(_generators())
        for name, state in states.items():
            gpus[name].set_state(state)
        after = nbgrad.rand(n).tolist()
        self.demo = {'n': n, 'before': before, 'after_restore': after, 'equal': before == after,
                     'fingerprint': fingerprint(states['cpu'])}
        self.refresh()
        return self

    def _find(self, index_or_label):
        if not self._states:
            raise ValueError('no snapshot to restore: take one with snapshot() first')
        if isinstance(index_or_label, str):
            for i, s in enumerate(self.snapshots):
                if s['label'] == index_or_label:
                    return i
            raise ValueError(f'no snapshot labelled {index_or_label!r}; labels: '
                             f'{", ".join(repr(s["label"]) for s in self.snapshots)}')
        if isinstance(index_or_label, bool) or not isinstance(index_or_label, int):
            raise TypeError('restore expects a snapshot index (int) or label (str), got '
                            f'{type(index_or_label).__name__}')
        count = len(self._states)
        if not -count <= index_or_label < count:
            raise IndexError(f'snapshot index {index_or_label} out of range: there are {count} '
                             'snapshots')
        return index_or_label % count

    # -- messages from the front end's buttons ------------------------------------------------
    def _on_message(self, widget, content, buffers):
        try:
            action = content.get('action') if isinstance(content, dict) else None
            if action == 'refresh':
                self.refresh()
            elif action == 'snapshot':
                self.snapshot(content.get('label'))
            elif action == 'restore':
                if 'label' in content:
                    self.restore(content['label'])
                elif isinstance(content.get('index', -1), str):     # a label belongs in 'label'
                    raise TypeError("restore expects a snapshot index (int) in 'index', got "
                                    f"{content['index']!r}; send a label as 'label'")
                else:
                    self.restore(content.get('index', -1))
            elif action == 'demonstrate':
                self.demonstrate(content.get('n', 5))
            else:
                raise ValueError(f'unknown action {action!r}: expected refresh, snapshot, '
                                 'restore or demonstrate')
        except (ValueError, TypeError, IndexError) as exc:
            self.error = str(exc)
        else:
            self.error = ''

    # -- static fallbacks ---------------------------------------------------------------------
    def _generator_rows(self):
        return [[g['name'], g['kind'], g['initial_seed'],
                 '-' if g['offset'] is None else g['offset'], g['fingerprint'], g['state_bytes']]
                for g in self.generators]

    _HEADERS = ['generator', 'kind', 'initial seed', 'offset', 'state', 'bytes']

    def _snapshot_rows(self):
        current = {g['name']: g['fingerprint'] for g in self.generators}
        return [[i, s['label'], ', '.join(f'{k} {v}' for k, v in s['fingerprints'].items()),
                 'yes' if s['fingerprints'] == current else 'no']
                for i, s in enumerate(self.snapshots)]

    def _lines(self):
        """Text lines after the tables: CUDA, the demonstration, errors."""
        lines = []
        if not nbgrad.cuda.is_available():
            lines.append('cuda generators: none (CUDA is not available)')
        if self.demo:
            d = self.demo
            lines += [f'demonstration: state {d["fingerprint"]}, nbgrad.rand({d["n"]})',
                      '  drawn:          ' + ' '.join(_svg.fmt(x) for x in d['before']),
                      '  after restore:  ' + ' '.join(_svg.fmt(x) for x in d['after_restore']),
                      '  same numbers:   ' + ('yes' if d['equal'] else 'NO')]
        if self.error:
            lines.append(f'error: {self.error}')
        return lines

    def text(self):
        parts = ['RNGView', _svg.text_table(self._HEADERS, self._generator_rows(),
                                            align=['l', 'l', 'r', 'r', 'l', 'r'])]
        if self.snapshots:
            parts += ['snapshots:', _svg.text_table(['#', 'label', 'states', 'current'],
                                                    self._snapshot_rows(),
                                                    align=['r', 'l', 'l', 'l'])]
        return '\n'.join(parts + self._lines())

    def html(self):
        parts = ['<div class="nbgrad-rng-view">',
                 _svg.table(self._HEADERS, self._generator_rows(),
                            align=['l', 'l', 'r', 'r', 'l', 'r'], caption='Random generators')]
        if self.snapshots:
            parts.append(_svg.table(['#', 'label', 'states', 'current'], self._snapshot_rows(),
                                    align=['r', 'l', 'l', 'l'], caption='Snapshots'))
        parts.extend(_svg.pre(line, 'margin:2px 0')
                     for line in self._lines())
        return ''.join(parts) + '</div>'

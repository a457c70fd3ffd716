"""PyTorch's CPU order of ties: replays of libstdc++'s std::sort, std::partial_sort and
std::nth_element, and of the quickselect behind kthvalue.

PyTorch sorts on the CPU with std::sort (stable=False), which orders equal elements its own
way once a row is longer than 16 (its insertion-sort threshold); its topk selects with
std::partial_sort (k * 64 <= n) or std::nth_element and then std::sort. That order decides,
e.g., how pack_padded_sequence(enforce_sorted=False) arranges sequences of equal length (and so
which elements a later dropout mask hits), and which of equal scores topk returns. nbgrad sorts
stably; for a row with ties it replays the C++ algorithms here (median-of-three pivot,
unguarded Hoare partition, heapsort past the depth limit, insertion sort), on Python values, so
that the indices come out as PyTorch's do. kthvalue selects with its own quickselect
(Sorting.cpp's quick_select_template, from Sedgewick's 1978 quicksort), replayed likewise.
"""
import math

THRESHOLD = 16      # libstdc++'s _S_threshold


def _comparator(keys, descending):
    """PyTorch's comparator (KeyValueCompAsc/Desc) on positions: NaN is the largest value."""
    nan = [k != k for k in keys]
    if descending:
        def before(i, j):
            return (nan[i] and not nan[j]) or keys[i] > keys[j]
    else:
        def before(i, j):
            return (nan[j] and not nan[i]) or keys[i] < keys[j]
    return before


def introsort_order(keys, descending):
    """The positions 0..n-1 of `keys` (a list of Python numbers) in the order std::sort leaves
    them."""
    order = list(range(len(keys)))
    _sort(order, 0, len(order), _comparator(keys, descending))
    return order


def topk_order(keys, k, largest, sorted):
    """The positions PyTorch's CPU topk returns, in its order (TopKImpl.h)."""
    before = _comparator(keys, largest)
    order = list(range(len(keys)))
    n = len(order)
    if k == 0:
        return []
    if k * 64 <= n:
        _heap_select(order, 0, k, n, before)
        _sort_heap(order, 0, k, before)
    else:
        _introselect(order, 0, k - 1, n, 2 * int(math.log2(n)), before)
        if sorted:
            _sort(order, 0, k - 1, before)
    return order[:k]


def quickselect_position(keys, k):
    """The position kthvalue returns for the k-th smallest (0-based k) of `keys`: where
    quick_select_template (Sorting.cpp) leaves it, NaN counting as the largest value."""
    nan = [key != key for key in keys]

    def greater(i, j):     # gt_or_nan on the values at positions i and j
        return (nan[i] and not nan[j]) or keys[i] > keys[j]
    a = list(range(len(keys)))
    low, high = 0, len(a) - 1
    while high > low:
        if high == low + 1:
            if greater(a[low], a[high]):
                a[low], a[high] = a[high], a[low]
            break
        mid = (low + high) >> 1          # median of three, left at a[low]
        a[mid], a[low + 1] = a[low + 1], a[mid]
        for x, y in ((low + 1, high), (low, high), (low + 1, low)):
            if greater(a[x], a[y]):
                a[x], a[y] = a[y], a[x]
        i, j, pivot = low + 1, high, a[low]
        while True:
            i += 1
            while greater(pivot, a[i]):
                i += 1
            j -= 1
            while greater(a[j], pivot):
                j -= 1
            if j < i:
                break
            a[i], a[j] = a[j], a[i]
        a[low], a[j] = a[j], a[low]
        if j <= k:
            low = i
        if j >= k:
            high = j - 1
    return a[k]


def _sort(a, first, last, before):
    """std::sort(first, last)."""
    n = last - first
    if n > 1:
        _introsort_loop(a, first, last, 2 * int(math.log2(n)), before)
        if n > THRESHOLD:
            _insertion_sort(a, first, first + THRESHOLD, before)
            _unguarded_insertion_sort(a, first + THRESHOLD, last, before)
        else:
            _insertion_sort(a, first, last, before)


def _introselect(a, first, nth, last, depth, before):
    """std::nth_element(first, nth, last)."""
    while last - first > 3:
        if depth == 0:
            _heap_select(a, first, nth + 1, last, before)
            a[first], a[nth] = a[nth], a[first]
            return
        depth -= 1
        _move_median_to_first(a, first, first + 1, first + (last - first) // 2, last - 1, before)
        cut = _unguarded_partition(a, first + 1, last, first, before)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, before)


def _introsort_loop(a, first, last, depth, before):
    while last - first > THRESHOLD:
        if depth == 0:
            _heap_sort(a, first, last, before)
            return
        depth -= 1
        _move_median_to_first(a, first, first + 1, first + (last - first) // 2, last - 1, before)
        cut = _unguarded_partition(a, first + 1, last, first, before)
        _introsort_loop(a, cut, last, depth, before)
        last = cut


def _move_median_to_first(a, result, x, y, z, before):
    if before(a[x], a[y]):
        if before(a[y], a[z]):
            pick = y
        elif before(a[x], a[z]):
            pick = z
        else:
            pick = x
    elif before(a[x], a[z]):
        pick = x
    elif before(a[y], a[z]):
        pick = z
    else:
        pick = y
    a[result], a[pick] = a[pick], a[result]


def _unguarded_partition(a, first, last, pivot, before):
    while True:
        while before(a[first], a[pivot]):
            first += 1
        last -= 1
        while before(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _heap_sort(a, first, last, before):
    """std::__partial_sort(first, last, last)."""
    _heap_select(a, first, last, last, before)
    _sort_heap(a, first, last, before)


def _heap_select(a, first, middle, last, before):
    """std::__heap_select: a heap of [first, middle) keeping the best of [first, last)."""
    length = middle - first
    if length >= 2:
        parent = (length - 2) // 2
        while True:
            _adjust_heap(a, first, parent, length, a[first + parent], before)
            if parent == 0:
                break
            parent -= 1
    for i in range(middle, last):
        if before(a[i], a[first]):
            value = a[i]
            a[i] = a[first]
            _adjust_heap(a, first, 0, length, value, before)


def _sort_heap(a, first, last, before):
    length = last - first
    while length > 1:
        length -= 1
        value = a[first + length]
        a[first + length] = a[first]
        _adjust_heap(a, first, 0, length, value, before)


def _adjust_heap(a, first, hole, length, value, before):
    top = second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if before(a[first + second], a[first + second - 1]):
            second -= 1
        a[first + hole] = a[first + second]
        hole = second
    if length % 2 == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        a[first + hole] = a[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2
    while hole > top and before(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value


def _insertion_sort(a, first, last, before):
    for i in range(first + 1, last):
        value = a[i]
        if before(value, a[first]):
            a[first + 1:i + 1] = a[first:i]
            a[first] = value
        else:
            _unguarded_linear_insert(a, i, before)


def _unguarded_insertion_sort(a, first, last, before):
    for i in range(first, last):
        _unguarded_linear_insert(a, i, before)


def _unguarded_linear_insert(a, i, before):
    value = a[i]
    while before(value, a[i - 1]):
        a[i] = a[i - 1]
        i -= 1
    a[i] = value

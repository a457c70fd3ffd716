"""Process targets for test_multiprocessing.py: importable by name, as the 'spawn' start method
needs (a test module's own functions would drag pytest into every child)."""
import os


def add_one_and_reply(q_in, q_out, done):
    """Receive a tensor, add 1 in place, send back a view of it and a new Parameter, then wait
    until the parent has both (the sender must live until its tensors are received)."""
    import nbgrad
    t = q_in.get()
    t += 1
    q_out.put(t[1:])
    q_out.put(nbgrad.nn.Parameter(nbgrad.full((2,), 5.0)))
    done.wait()


def send_and_exit(q):
    import nbgrad
    q.put(nbgrad.ones(3))


def write_slot(i, shared):
    shared[i] = i + 10


def fail_in_process_one(i):
    if i == 1:
        raise ValueError('process one fails')


def exit_with_code_three(i):
    if i == 0:
        os._exit(3)


def hogwild(i, model, steps):
    """A few SGD steps on the shared model with this process's own data."""
    import nbgrad
    nbgrad.manual_seed(i)
    optimizer = nbgrad.optim.SGD(model.parameters(), lr=0.1)
    x, y = nbgrad.randn(16, 4), nbgrad.randn(16, 1)
    for _ in range(steps):
        optimizer.zero_grad()
        nbgrad.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()

"""The `%%model` cell body, read into a description of the model (no IPython, no nbgrad here).

A body has one of two forms:

list form: one layer expression per line; it becomes an nn.Sequential. `name = Layer(...)`
names a layer (the Sequential is then built from an OrderedDict); a trailing comma is allowed.

    Flatten()
    Linear(784, hidden)
    relu = ReLU()
    Linear(hidden, 10)

class form: layer attributes and methods, at least `def forward(self, x)`; it becomes an
nn.Module subclass whose __init__ calls super().__init__() and then sets the attributes in order.

    fc1 = Linear(784, 128)
    fc2 = Linear(128, 10)
    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

parse() checks the syntax and the shape of the body and returns a SequentialSpec or a ClassSpec
whose parts carry their line numbers (1 = the first line of the body), so that the builder can
point every later error at a line too. What the names mean is not decided here: that needs the
user's namespace and nbgrad (model_builder.py).
"""
import ast
from dataclasses import dataclass, field


class ModelSyntaxError(Exception):
    """A body that is not Python, or not one of the two forms; `lineno` is the body's line."""

    def __init__(self, lineno, message, source=None):
        self.lineno = lineno
        self.message = message
        self.source = source
        text = f'line {lineno}: '
        if source:
            text += f'{source}: '
        super().__init__(text + message)


@dataclass
class LayerSpec:
    """One layer expression (list form) or one attribute (class form)."""
    lineno: int            # first line of the statement in the body
    source: str            # the statement's text as written, for messages
    expression: ast.expr   # the right-hand side, with the body's line numbers
    name: str = None       # `name = ...`; None for an unnamed list-form layer


@dataclass
class SequentialSpec:
    layers: list
    silenced: bool = False   # the body ends with ';'


@dataclass
class ClassSpec:
    attributes: list                              # LayerSpecs, in order
    methods: list                                 # ast.FunctionDef nodes (forward among them)
    docstring: str = None
    silenced: bool = False
    tree: ast.Module = field(default=None, repr=False)


def parse(text):
    """The body `text` -> SequentialSpec or ClassSpec; raises ModelSyntaxError."""
    lines = text.splitlines()
    if not any(line.strip() and not line.strip().startswith('#') for line in lines):
        raise ModelSyntaxError(1, 'the body is empty: write one layer per line (Linear(784, 10)) '
                                  'or a class body with def forward(self, x)')
    # a ';' alone on the last line silences too (after a class body's `return x` it is the
    # natural place); it is not Python, so it is blanked before parsing (line numbers stay)
    code_lines = [i for i, line in enumerate(lines)
                  if line.strip() and not line.strip().startswith('#')]
    lone_semicolon = lines[code_lines[-1]].split('#')[0].strip() == ';'
    if lone_semicolon:
        lines[code_lines[-1]] = ''
        text = '\n'.join(lines) + '\n'
    try:
        tree = ast.parse(text, mode='exec')
    except SyntaxError as e:
        lineno = e.lineno or 1
        source = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else None
        raise ModelSyntaxError(lineno, e.msg, source) from None
    silenced = lone_semicolon or _ends_with_semicolon(text)
    if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body):
        return _class_form(tree, text, silenced)
    return _list_form(tree, text, silenced)


def _segment(text, node):
    source = ast.get_source_segment(text, node) or ''
    # a statement over several lines is shown on one line in messages
    return ' '.join(part.strip() for part in source.splitlines())


def _list_form(tree, text, silenced):
    layers, names = [], {}
    for node in tree.body:
        if isinstance(node, ast.Expr):
            value = node.value
            # `Linear(784, 128),` is a one-element tuple: a trailing comma is allowed
            elements = value.elts if isinstance(value, ast.Tuple) else [value]
            for element in elements:
                layers.append(LayerSpec(element.lineno, _segment(text, element), element))
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name = node.targets[0].id
            if name in names:
                raise ModelSyntaxError(node.lineno, f'the layer name {name!r} is already used on '
                                                    f'line {names[name]}', _segment(text, node))
            names[name] = node.lineno
            layers.append(LayerSpec(node.lineno, _segment(text, node), node.value, name))
        else:
            raise ModelSyntaxError(
                node.lineno, 'expected one layer expression per line, like Linear(784, 128) '
                             '(or name = Linear(784, 128)); for a model with its own forward, '
                             'write a class body with def forward(self, x)',
                _segment(text, node))
    return SequentialSpec(layers, silenced)


def _class_form(tree, text, silenced):
    attributes, methods, names, docstring = [], [], {}, None
    for index, node in enumerate(tree.body):
        if (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            docstring = node.value.value
        elif isinstance(node, ast.FunctionDef):
            if node.name in names:
                raise ModelSyntaxError(node.lineno, f'{node.name!r} is already defined on line '
                                                    f'{names[node.name]}', f'def {node.name}')
            names[node.name] = node.lineno
            methods.append(node)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name = node.targets[0].id
            if name in names:
                raise ModelSyntaxError(node.lineno, f'{name!r} is already defined on line '
                                                    f'{names[name]}', _segment(text, node))
            names[name] = node.lineno
            attributes.append(LayerSpec(node.lineno, _segment(text, node), node.value, name))
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.AsyncFunctionDef):
            raise ModelSyntaxError(node.lineno, 'a module method cannot be async',
                                   f'async def {node.name}')
        else:
            raise ModelSyntaxError(
                node.lineno, 'a class body holds layer attributes (fc1 = Linear(784, 128)) and '
                             'methods (def forward(self, x): ...), nothing else',
                _segment(text, node).split('\n')[0])
    forward = next((m for m in methods if m.name == 'forward'), None)
    if forward is None:
        raise ModelSyntaxError(methods[0].lineno,
                               'the class body has no forward method: add '
                               'def forward(self, x): ...', f'def {methods[0].name}')
    if not forward.args.args and not forward.args.vararg:
        raise ModelSyntaxError(forward.lineno, 'forward takes self first: def forward(self, x)',
                               'def forward')
    if names.get('__init__'):
        raise ModelSyntaxError(names['__init__'], '__init__ is written for you from the attribute '
                                                  'lines (name = Layer(...)): remove it',
                               'def __init__')
    return ClassSpec(attributes, methods, docstring, silenced, tree)


def _ends_with_semicolon(text):
    """IPython's rule: a ';' as the last token (comments aside) silences the output."""
    import io
    import tokenize
    last = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                  tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ';'


def class_name_for(name):
    """The class a class-form body becomes: `mlp` -> Mlp, `my_net` -> MyNet. A NAME that is
    already its own CamelCase (Net) gets NetModule, so the class and the instance can both be
    bound in the namespace."""
    camel = ''.join(part[:1].upper() + part[1:] for part in name.split('_') if part) or 'Model'
    return camel + 'Module' if camel == name else camel

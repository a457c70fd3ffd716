"""The %%model body parser (magics/model_parser.py): the two forms, names, line numbers of errors.
It has no IPython or nbgrad dependency, so these tests import it alone."""
import ast
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), '..', 'magics', 'model_parser.py')
_spec = importlib.util.spec_from_file_location('_model_parser_alone', _PATH)
model_parser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model_parser)

parse = model_parser.parse
ModelSyntaxError = model_parser.ModelSyntaxError
SequentialSpec = model_parser.SequentialSpec
ClassSpec = model_parser.ClassSpec


def test_the_parser_imports_neither_ipython_nor_nbgrad():
    source = open(_PATH).read()
    imported = {alias.name.split('.')[0] for node in ast.walk(ast.parse(source))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else
                              [ast.alias(node.module or '')])}
    assert not imported & {'IPython', 'nbgrad', 'ipywidgets'}


# -- list form ------------------------------------------------------------------------------

def test_list_form_one_layer_per_line_with_their_line_numbers():
    spec = parse('Flatten()\nLinear(784, 128)\nReLU()\nLinear(128, 10)\n')
    assert isinstance(spec, SequentialSpec)
    assert [layer.source for layer in spec.layers] == ['Flatten()', 'Linear(784, 128)', 'ReLU()',
                                                       'Linear(128, 10)']
    assert [layer.lineno for layer in spec.layers] == [1, 2, 3, 4]
    assert all(layer.name is None for layer in spec.layers)
    assert not spec.silenced


def test_list_form_skips_blank_lines_and_comments_keeping_line_numbers():
    spec = parse('\n# the encoder\nLinear(10, 5)   # in\n\n   \nReLU()\n# done\n')
    assert [(layer.lineno, layer.source) for layer in spec.layers] == [(3, 'Linear(10, 5)'),
                                                                       (6, 'ReLU()')]


def test_list_form_expression_over_several_lines_is_one_layer():
    spec = parse('Linear(784,\n       128)\nSequential(\n    Linear(1, 2),\n    ReLU(),\n)\n')
    assert [layer.lineno for layer in spec.layers] == [1, 3]
    assert spec.layers[0].source == 'Linear(784, 128)'
    assert spec.layers[1].source.startswith('Sequential( Linear(1, 2),')


def test_list_form_trailing_commas_are_allowed():
    spec = parse('Linear(4, 3),\nReLU(),\n')
    assert [layer.source for layer in spec.layers] == ['Linear(4, 3)', 'ReLU()']


def test_list_form_several_layers_on_one_line():
    spec = parse('Linear(4, 3), ReLU()\nLinear(3, 1); Sigmoid()')
    assert [(layer.lineno, layer.source) for layer in spec.layers] == [
        (1, 'Linear(4, 3)'), (1, 'ReLU()'), (2, 'Linear(3, 1)'), (2, 'Sigmoid()')]


def test_list_form_named_layers():
    spec = parse('fc1 = Linear(4, 3)\nReLU()\nout = Linear(3, 1)')
    assert [layer.name for layer in spec.layers] == ['fc1', None, 'out']
    assert spec.layers[0].source == 'fc1 = Linear(4, 3)'
    assert isinstance(spec.layers[0].expression, ast.Call)


def test_list_form_duplicate_layer_name_is_an_error_on_the_second_line():
    with pytest.raises(ModelSyntaxError) as info:
        parse('fc = Linear(4, 3)\nReLU()\nfc = Linear(3, 1)')
    assert info.value.lineno == 3
    assert "'fc' is already used on line 1" in str(info.value)


def test_list_form_bare_names_and_attribute_access_are_layers_to_the_parser():
    # whether `ReLU` (no call) is a layer is the builder's question: the parser accepts it
    spec = parse('ReLU\nnn.Linear(2, 2)\nmy_blocks[0]\n')
    assert [layer.source for layer in spec.layers] == ['ReLU', 'nn.Linear(2, 2)', 'my_blocks[0]']


@pytest.mark.parametrize('body, lineno, words', [
    ('Linear(784, 128)\nReLU(\nLinear(1, 2)', 2, "was never closed"),
    ('Linear(784, 128)\nLinear(1,, 2)\n', 2, 'invalid syntax'),
    ('Linear(1, 2)\n\n\n  ReLU()\n', 4, 'unexpected indent'),
    ('Linear(1, 2)\nfor i in range(3):\n    ReLU()\n', 2, 'one layer expression per line'),
    ('import os\n', 1, 'one layer expression per line'),
    ('Linear(1, 2)\nx, y = ReLU(), ReLU()\n', 2, 'one layer expression per line'),
    ('Linear(1, 2)\na = b = ReLU()\n', 2, 'one layer expression per line'),
    ('Linear(1, 2)\nself.fc = ReLU()\n', 2, 'one layer expression per line'),
    ('Linear(1 2)', 1, 'invalid syntax'),
    ('"unterminated', 1, 'unterminated string'),
])
def test_list_form_errors_point_at_the_body_line(body, lineno, words):
    with pytest.raises(ModelSyntaxError) as info:
        parse(body)
    assert info.value.lineno == lineno
    assert str(info.value).startswith(f'line {lineno}: ')
    assert words in str(info.value)


def test_lone_semicolon_line_keeps_the_line_numbers():
    spec = parse('fc = Linear(1, 2)\ndef forward(self, x):\n    return self.fc(x)\n;\n')
    assert spec.methods[0].lineno == 2 and spec.silenced
    with pytest.raises(ModelSyntaxError) as info:
        parse('Linear(1, 2)\n;\n;\n')
    assert info.value.lineno == 2


def test_syntax_error_message_shows_the_line():
    with pytest.raises(ModelSyntaxError) as info:
        parse('Flatten()\nLinear(784, 128\nReLU()')
    assert info.value.source is not None
    assert 'Linear(784, 128' in str(info.value)


@pytest.mark.parametrize('body', ['', '\n\n', '   \n# only a comment\n'])
def test_empty_body_is_an_error(body):
    with pytest.raises(ModelSyntaxError, match='body is empty') as info:
        parse(body)
    assert info.value.lineno == 1


@pytest.mark.parametrize('body, silenced', [
    ('Linear(1, 2)\nReLU();', True),
    ('Linear(1, 2)\nReLU();   # quiet\n\n', True),
    ('Linear(1, 2);\nReLU()', False),
    ('Linear(1, 2)\nReLU()', False),
    ('fc = Linear(1, 2)\ndef forward(self, x):\n    return self.fc(x);\n', True),
    ('fc = Linear(1, 2)\ndef forward(self, x):\n    return self.fc(x)\n;\n', True),
    ('Linear(1, 2)\n  ;  # quiet\n\n', True),
])
def test_trailing_semicolon_silences(body, silenced):
    assert parse(body).silenced is silenced


# -- class form -----------------------------------------------------------------------------

CLASS_BODY = '''\
"""A two-layer perceptron."""
fc1 = Linear(784, 128)
fc2 = Linear(128, 10)

def forward(self, x):
    x = F.relu(self.fc1(x))
    return self.fc2(x)

def extra(self):
    return 1
'''


def test_class_form_attributes_methods_and_docstring():
    spec = parse(CLASS_BODY)
    assert isinstance(spec, ClassSpec)
    assert spec.docstring == 'A two-layer perceptron.'
    assert [(a.name, a.lineno, a.source) for a in spec.attributes] == [
        ('fc1', 2, 'fc1 = Linear(784, 128)'), ('fc2', 3, 'fc2 = Linear(128, 10)')]
    assert [(m.name, m.lineno) for m in spec.methods] == [('forward', 5), ('extra', 9)]


def test_class_form_is_chosen_by_a_def_anywhere():
    spec = parse('def forward(self, x):\n    return self.fc(x)\nfc = Linear(2, 2)\n')
    assert isinstance(spec, ClassSpec)
    assert [a.name for a in spec.attributes] == ['fc']


def test_class_form_non_layer_attributes_and_pass_are_allowed():
    spec = parse('hidden = 64\nfc = Linear(10, hidden)\npass\ndef forward(self, x):\n'
                 '    return self.fc(x)\n')
    assert [a.name for a in spec.attributes] == ['hidden', 'fc']


def test_class_form_decorated_methods_are_kept():
    spec = parse('fc = Linear(2, 2)\n@property\ndef width(self):\n    return 2\n'
                 'def forward(self, x):\n    return self.fc(x)\n')
    assert [m.name for m in spec.methods] == ['width', 'forward']


@pytest.mark.parametrize('body, lineno, words', [
    ('fc = Linear(2, 2)\ndef helper(self):\n    pass\n', 2, 'no forward method'),
    ('fc = Linear(2, 2)\ndef forward():\n    pass\n', 2, 'forward takes self first'),
    ('fc = Linear(2, 2)\nReLU()\ndef forward(self, x):\n    return x\n', 2,
     'a class body holds layer attributes'),
    ('fc = Linear(2, 2)\nfor i in range(2):\n    pass\ndef forward(self, x):\n    return x\n', 2,
     'a class body holds layer attributes'),
    ('fc = Linear(2, 2)\nfc = Linear(3, 3)\ndef forward(self, x):\n    return x\n', 2,
     "'fc' is already defined on line 1"),
    ('def forward(self, x):\n    return x\ndef forward(self, x):\n    return x\n', 3,
     "'forward' is already defined on line 1"),
    ('def __init__(self):\n    pass\ndef forward(self, x):\n    return x\n', 1,
     '__init__ is written for you'),
    ('async def forward(self, x):\n    return x\n', 1, 'cannot be async'),
    ('fc = Linear(2, 2)\ndef forward(self, x):\nreturn x\n', 3, 'expected an indented block'),
    ('fc = Linear(2, 2)\ndef forward(self, x):\n    return self.fc(x)\n  y = 1\n', 4,
     'unindent does not match'),
])
def test_class_form_errors_point_at_the_body_line(body, lineno, words):
    with pytest.raises(ModelSyntaxError) as info:
        parse(body)
    assert info.value.lineno == lineno, str(info.value)
    assert words in str(info.value)


def test_parser_keeps_expression_line_numbers_for_the_builder():
    spec = parse('\n\nfc = Linear(\n    2, 2)\ndef forward(self, x):\n    return self.fc(x)\n')
    attribute = spec.attributes[0]
    assert attribute.lineno == 3 and attribute.expression.lineno == 3
    assert spec.methods[0].body[0].lineno == 6


@pytest.mark.parametrize('name, expected', [('mlp', 'Mlp'), ('my_net', 'MyNet'),
                                            ('convNet', 'ConvNet'), ('Net', 'NetModule'),
                                            ('_private', 'Private'), ('net2', 'Net2'),
                                            ('MyNet', 'MyNetModule')])
def test_class_name_for(name, expected):
    assert model_parser.class_name_for(name) == expected


def test_module_is_importable_as_part_of_nbgrad_magics_too():
    from nbgrad.magics import model_parser as installed
    assert installed.parse('ReLU()').layers[0].source == 'ReLU()'

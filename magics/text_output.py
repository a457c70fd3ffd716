"""TextOutput: a block of text shown by IPython.display.display as text/plain (what a terminal
IPython, nbval and nbconvert use) and as text/html (a <pre>, which keeps the columns aligned in
JupyterLab whatever its output font settings). `%nbgrad` status uses it (the RNG and profile
reports are widgets: RNGView, ProfilerView)."""
import html

from nbgrad.widgets._svg import pre


class TextOutput:
    def __init__(self, text, title=None):
        self.text = text
        self.title = title

    def __str__(self):
        return self.text if self.title is None else f'{self.title}\n{self.text}'

    __repr__ = __str__

    def _repr_mimebundle_(self, include=None, exclude=None):
        heading = '' if self.title is None else f'<b>{html.escape(self.title)}</b>'
        return {'text/plain': str(self),
                'text/html': heading + pre(self.text)}

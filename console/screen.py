"""What the console's parts share to speak to the person: the printer, the render options, the
prompt's redraw, notes above the prompt and one-line questions."""

from __future__ import annotations

from typing import Any

from console import render
from console.output import Printer


class Screen:
    """The terminal as the console's parts see it (the prompt is set once it exists)."""

    def __init__(self, printer: Printer, options: render.RenderOptions) -> None:
        self.printer = printer
        self.options = options  # replaced (new width) before each cell
        self.prompt: Any = None  # the prompt_toolkit PromptSession of the console

    def style(self, text: str, color: str) -> str:
        return render.style(text, color, self.options)

    def note(self, text: str, color: str = "") -> None:
        """A line of the console's own above the prompt."""
        self.printer.ensure_line_start()
        self.printer.write(render.style(text, color or render.DIM, self.options) + "\n")  # reset before the newline: no blank line above a live prompt
        self.invalidate()

    def invalidate(self) -> None:
        """Redraw the prompt (its count or highlighting changed), if it is up."""
        if self.prompt is not None and self.prompt.app.is_running:
            self.prompt.app.invalidate()

    async def ask(self, question: str, password: bool = False) -> str:
        """One line answered at the terminal (EOFError on Ctrl-D, KeyboardInterrupt on Ctrl-C).

        A password shows nothing while typed, not even its length (no ``*`` per character, the
        cursor stays put), as getpass does in a terminal.
        """
        from prompt_toolkit import PromptSession

        session: PromptSession[str] = PromptSession(input=self.prompt.input, output=self.prompt.output)
        hidden = [_hidden_input()] if password else None
        return await session.prompt_async(question, input_processors=hidden)


def _hidden_input() -> Any:
    """A prompt_toolkit input processor that shows none of the typed text and keeps the cursor
    at the start of the answer."""
    from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput

    class HiddenInput(Processor):
        def apply_transformation(self, transformation_input: TransformationInput) -> Transformation:
            return Transformation([], source_to_display=lambda i: 0, display_to_source=lambda i: 0)

    return HiddenInput()

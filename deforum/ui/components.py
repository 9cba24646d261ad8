"""Gradio components from ComponentSpecs; works on gradio 3.41 (A1111) and 4.x (Forge)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from deforum.ui.specs import ComponentSpec
from deforum.ui.visibility import visibility


def gradio() -> Any:
    """The gradio module (imported only when the tab is built)."""
    import gradio as gr

    return gr


def major_version(gr: Any) -> int:
    """gradio's major version number."""
    return int(str(getattr(gr, "__version__", "3")).split(".")[0])


def js_kwargs(gr: Any, function_name: str) -> dict[str, str]:
    """The event argument that runs a JavaScript function first (`_js` in gradio 3, `js` in 4)."""
    return {"_js" if major_version(gr) < 4 else "js": function_name}


def _common(spec: ComponentSpec, visible: bool) -> dict[str, Any]:
    """Arguments every setting component takes."""
    args: dict[str, Any] = {"label": spec.label, "value": spec.value, "elem_id": spec.elem_id, "visible": visible,
                            "interactive": True}
    if spec.info:
        args["info"] = spec.info
    return args


def _specific(spec: ComponentSpec) -> dict[str, Any]:
    """Arguments of the component's kind."""
    if spec.component in ("radio", "dropdown"):
        args: dict[str, Any] = {"choices": list(spec.choices)}
        if spec.component == "dropdown" and spec.allow_custom:
            args["allow_custom_value"] = True
        return args
    if spec.component == "slider":
        return {"minimum": spec.minimum, "maximum": spec.maximum, "step": spec.step}
    if spec.component == "number":
        return {"precision": spec.precision}
    if spec.component == "textbox":
        return {"lines": spec.lines, "max_lines": max(spec.lines, 20) if spec.lines > 1 else 1}
    return {}


COMPONENT_CLASSES = {"checkbox": "Checkbox", "radio": "Radio", "dropdown": "Dropdown", "slider": "Slider",
                     "number": "Number", "textbox": "Textbox"}


def make_component(gr: Any, spec: ComponentSpec, visible: bool | None = None) -> Any:
    """The gradio component for a spec."""
    cls = getattr(gr, COMPONENT_CLASSES[spec.component])
    return cls(**_common(spec, spec.visible if visible is None else visible), **_specific(spec))


def initial_visibility(specs: Mapping[str, ComponentSpec]) -> dict[str, bool]:
    """Visibility of every component for the values the specs show."""
    shown = visibility({key: spec.value for key, spec in specs.items()})
    return {**shown, **{key: spec.visible and shown.get(key, True) for key, spec in specs.items()}}


def updates(gr: Any, values: list[Any] | None, count: int) -> list[Any]:
    """Values to set, or `count` no-op updates when values is None (nothing loaded)."""
    return list(values) if values is not None else [gr.update() for _ in range(count)]


def one_or_many(outputs: list[Any]) -> Any:
    """A handler's return for its outputs: gradio takes the bare value when an event has a single output."""
    return outputs[0] if len(outputs) == 1 else outputs


def info_handler(gr: Any, infos: list[str]) -> Callable[[bool], Any]:
    """The "Show more info" handler: each component's help line, or none."""

    def handler(show: bool) -> Any:
        """Show or hide the help lines."""
        return one_or_many([gr.update(info=text if show else "") for text in infos])

    return handler


def visibility_handler(gr: Any, rules: list[Any]) -> Callable[[Any], Any]:
    """An event handler returning visibility updates for the targets of rules (a bare update for one target)."""

    def handler(value: Any) -> Any:
        """Show or hide each target."""
        return one_or_many([gr.update(visible=bool(rule.shown(value))) for rule in rules for _ in rule.targets])

    return handler

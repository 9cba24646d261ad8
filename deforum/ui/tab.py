"""The Deforum tab: the layout table walked into gradio blocks, the output column and the events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from deforum.ui import actions
from deforum.ui.components import (
    gradio,
    info_handler,
    initial_visibility,
    make_component,
    updates,
    visibility_handler,
)
from deforum.ui.enhance_panel import build_enhance_panel
from deforum.ui.help_text import help_block
from deforum.ui.host import TabHost
from deforum.ui.layout import PANELS, TOP, Node
from deforum.ui.specs import ComponentSpec, component_specs, hints_html, ui_keys
from deforum.ui.visibility import rules_by_trigger
from deforum.ui.widgets import WIDGETS, OutputColumn, build_output_column


class TabBuilder:
    """Walks the layout table, creating one component per setting and the named widgets."""

    def __init__(self, gr: Any, host: TabHost, specs: Mapping[str, ComponentSpec]) -> None:
        self.gr, self.host, self.specs = gr, host, specs
        self.shown = initial_visibility(specs)
        self.components: dict[str, Any] = {}
        self.widgets: dict[str, Any] = {}

    def nodes(self, nodes: tuple[Node, ...]) -> None:
        """Build a sequence of layout nodes."""
        for node in nodes:
            self.node(node)

    def node(self, node: Node) -> None:
        """Build one layout node (row, tabs, tab, accordion, widget or note)."""
        gr, kind = self.gr, node[0]
        if kind == "row":
            with gr.Row():
                for key in node[1]:
                    self.components[key] = make_component(gr, self.specs[key], self.shown[key])
        elif kind == "tabs":
            with gr.Tabs():
                self.nodes(node[1])
        elif kind == "tab":
            with gr.Tab(node[1]):
                self.nodes(node[2])
        elif kind == "accordion":
            with gr.Accordion(node[1], open=node[3]):
                self.nodes(node[2])
        elif kind == "widget":
            self.widgets.update(WIDGETS[node[1]](gr, self.host))
        elif kind == "help":
            self.help_block(node[1])
        else:
            gr.Markdown(node[1])

    def help_block(self, name: str) -> None:
        """A help block (the ControlNet one only when the extension is missing; the LeReS one as its rule says)."""
        key = "help_" + name
        visible = self.shown.get(key, True) and not (name == "controlnet_missing" and self.host.controlnet_present)
        self.components[key] = self.gr.HTML(help_block(name), elem_id="deforum_" + key, visible=visible)

    def hidden(self, keys: list[str]) -> None:
        """Components for the keys the layout does not show (their values still round-trip)."""
        for key in keys:
            if key not in self.components:
                self.components[key] = make_component(self.gr, self.specs[key], False)


def build_tab(host: TabHost | None = None, specs: Mapping[str, ComponentSpec] | None = None) -> Any:
    """The tab's Blocks: settings panels on the left, Generate and the results on the right."""
    gr = gradio()
    host = host or TabHost()
    specs = specs or component_specs(host.initial_settings(), host.choices)
    keys = ui_keys()
    with gr.Blocks(analytics_enabled=False) as blocks:
        builder = TabBuilder(gr, host, specs)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, variant="panel", elem_id="deforum_settings_column"):
                builder.nodes(TOP)
                gr.HTML(hints_html(keys), elem_id="deforum_hints")
                with gr.Tabs(elem_id="deforum_panels"):
                    builder.nodes(PANELS)
                    _music_and_plots(gr, builder.components)
                    with gr.Tab("Wan prompts (Qwen)"):
                        build_enhance_panel(gr, host, builder.components, keys)
                builder.hidden(keys)
            with gr.Column(scale=1, variant="compact"):
                column = build_output_column(gr)
        wire_events(gr, builder, column, keys)
    return blocks


def _music_and_plots(gr: Any, components: Mapping[str, Any]) -> None:
    """The Audio panel and the schedule plot, as two more panels wired to the settings' components."""
    from deforum.ui.audio_panel import build_audio_panel
    from deforum.ui.schedule_plot import build_schedule_plot

    with gr.Tab("Audio"):
        build_audio_panel(components)
    with gr.Tab("Schedule plot"):
        build_schedule_plot(components)


def _named(keys: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    """The components' values by key."""
    return dict(zip(keys, values))


def generate_handler(gr: Any, host: TabHost, keys: list[str]) -> Callable[..., list[Any]]:
    """Generate's handler: (task id, batch on, batch files, init box, *values) -> gallery, video, resume, info, log."""

    def handler(_task_id: Any, batch_enabled: bool, batch_files: Any, init_box: Any, *values: Any) -> list[Any]:
        """Render and show the results."""
        named = actions.with_init_box(_named(keys, values), init_box)
        out = actions.generate(host, named, bool(batch_enabled), batch_files)
        resume = gr.update(value=out.timestring) if out.timestring else gr.update()
        return [out.gallery, out.video, resume, out.info, out.log]

    return handler


def wire_events(gr: Any, builder: TabBuilder, column: OutputColumn, keys: list[str]) -> None:
    """Connect buttons, loaders and the show/hide rules."""
    comps, widgets, host = builder.components, builder.widgets, builder.host
    fields = [comps[k] for k in keys]
    handler = host.wrap_gpu_call(generate_handler(gr, host, keys), [None, None, gr.update(), ""])
    inputs = [widgets["batch_enabled"], widgets["batch_files"], widgets["init_image_box"], *fields]
    column.wire_generate(gr, host, handler, inputs, comps["resume_timestring"])
    column.save.click(fn=lambda path, *values: actions.save_settings(host, path, _named(keys, values)),
                      inputs=[column.settings_path, *fields], outputs=[column.log])
    column.load.click(fn=lambda path: _loaded(gr, actions.load_settings(path, keys), len(keys)),
                      inputs=[column.settings_path], outputs=[*fields, column.log])
    video_keys = actions.output_keys(keys)
    widgets["load_video_settings"].click(
        fn=lambda path: _loaded(gr, actions.load_video_settings(path, keys), len(video_keys)),
        inputs=[widgets["video_settings_path"]], outputs=[*(comps[k] for k in video_keys), column.log])
    widgets["batch_enabled"].change(fn=lambda on: gr.update(visible=bool(on)), inputs=[widgets["batch_enabled"]],
                                    outputs=[widgets["batch_files"]], queue=False)
    with_info = [k for k in keys if builder.specs[k].info]
    comps["show_info_on_ui"].change(fn=info_handler(gr, [builder.specs[k].info for k in with_info]),
                                    inputs=[comps["show_info_on_ui"]], outputs=[comps[k] for k in with_info],
                                    queue=False)
    for trigger, rules in rules_by_trigger().items():
        targets = [comps[t] for rule in rules for t in rule.targets]
        comps[trigger].change(fn=visibility_handler(gr, rules), inputs=[comps[trigger]], outputs=targets,
                              queue=False)


def _loaded(gr: Any, loaded: tuple[list[Any] | None, str], count: int) -> list[Any]:
    """A loader's values (or no-op updates) followed by its message."""
    values, text = loaded
    return [*updates(gr, values, count), text]

"""Where each setting sits in the Deforum tab: the original's panels and sub-tabs as a small table of keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deforum.models.spec_extra import CONTROLNET_UNITS

Node = tuple[Any, ...]


def row(keys: str) -> Node:
    """A row of settings, by key."""
    return ("row", tuple(keys.split()))


def tab(title: str, *nodes: Node) -> Node:
    """One tab of a tab set."""
    return ("tab", title, nodes)


def tabs(*items: Node) -> Node:
    """A set of tabs."""
    return ("tabs", items)


def accordion(title: str, *nodes: Node, open_: bool = False) -> Node:
    """A collapsible group."""
    return ("accordion", title, nodes, open_)


def widget(name: str) -> Node:
    """A control that is not a setting (batch files, tools...), built by the tab."""
    return ("widget", name)


def note(text: str) -> Node:
    """A line of explanatory text."""
    return ("note", text)


def help_(name: str) -> Node:
    """A help block of ui/help_text.py, by name."""
    return ("help", name)


def _controlnet_unit(n: int) -> Node:
    """The tab of ControlNet unit n."""
    p = f"cn_{n}_"
    return tab(f"CN Model {n}",
               row(f"{p}enabled {p}pixel_perfect {p}low_vram {p}overwrite_frames {p}loopback_mode"),
               row(f"{p}module {p}model"), row(f"{p}weight {p}guidance_start {p}guidance_end"),
               row(f"{p}processor_res {p}threshold_a {p}threshold_b"), row(f"{p}resize_mode {p}control_mode"),
               row(f"{p}vid_path {p}mask_vid_path"))


RUN = tab(
    "Run",
    row("motion_preview_mode"), row("sampler scheduler steps"), row("W H"), row("seed batch_name"),
    row("restore_faces tiling enable_ddim_eta_scheduling enable_ancestral_eta_scheduling"),
    row("ddim_eta_schedule ancestral_eta_schedule"),
    accordion("Batch Mode, Resume and more", tabs(
        tab("Batch Mode/ run from setting files", widget("batch")),
        tab("Resume Animation", row("resume_from_timestring resume_timestring")),
    ), row("pix2pix_img_cfg_scale_schedule")),
    accordion("Forge fork settings (kept in settings files; not used by the A1111 renderer)", tabs(
        tab("Keyframe distribution", row("keyframe_distribution"),
            row("keyframe_strength_schedule image_keyframe_strength_schedule distilled_cfg_scale_schedule")),
        tab("FreeU", row("freeu_enabled"), row("freeu_b1 freeu_b2 freeu_s1 freeu_s2")),
        tab("Kohya HR fix", row("kohya_hrfix_enabled kohya_hrfix_downscale_after_skip"),
            row("kohya_hrfix_block_number kohya_hrfix_downscale_factor"),
            row("kohya_hrfix_start_percent kohya_hrfix_end_percent"),
            row("kohya_hrfix_downscale_method kohya_hrfix_upscale_method")),
        tab("Wan", row("wan_t2v_model wan_i2v_model wan_preferred_size"),
            row("wan_model_path wan_resolution wan_flash_attention_mode"),
            row("wan_seed wan_inference_steps wan_guidance_scale wan_frame_overlap"),
            row("wan_auto_download wan_strength_override wan_guidance_override wan_enable_interpolation"),
            row("wan_fixed_strength wan_motion_strength wan_interpolation_strength"),
            row("wan_movement_sensitivity wan_motion_strength_override wan_movement_description"),
            row("wan_qwen_model wan_qwen_language wan_qwen_auto_download"), row("wan_prompts"),
            row("wan_enhanced_prompts")),
    )),
)

KEYFRAMES = tab(
    "Keyframes",
    row("animation_mode max_frames border"), row("diffusion_cadence"),
    accordion("Guided Images", help_("guided_images"), row("use_looper"), row("init_images"),
              row("image_strength_schedule blendFactorMax blendFactorSlope"),
              row("tweening_frames_schedule color_correction_factor")),
    tabs(
        tab("Strength", row("strength_schedule")),
        tab("CFG", row("cfg_scale_schedule"), row("enable_clipskip_scheduling"), row("clipskip_schedule")),
        tab("Seed", row("seed_behavior"), row("seed_iter_N"), row("seed_schedule")),
        tab("SubSeed", row("enable_subseed_scheduling subseed_schedule subseed_strength_schedule"),
            row("seed_resize_from_w seed_resize_from_h")),
        tab("Step", row("enable_steps_scheduling"), row("steps_schedule")),
        tab("Sampler", row("enable_sampler_scheduling"), row("sampler_schedule"),
            row("enable_scheduler_scheduling"), row("scheduler_schedule")),
        tab("Checkpoint", row("enable_checkpoint_scheduling"), row("checkpoint_schedule")),
    ),
    tabs(
        tab("Motion", row("zoom angle"), row("transform_center_x transform_center_y"),
            row("translation_x translation_y translation_z"), row("rotation_3d_x rotation_3d_y rotation_3d_z"),
            row("enable_perspective_flip"), row("perspective_flip_theta perspective_flip_phi"),
            row("perspective_flip_gamma perspective_flip_fv")),
        tab("Noise", row("noise_type"), row("noise_schedule"), row("perlin_octaves perlin_persistence"),
            row("enable_noise_multiplier_scheduling"), row("noise_multiplier_schedule")),
        tab("Coherence", row("color_coherence color_force_grayscale legacy_colormatch"),
            row("color_coherence_video_every_N_frames color_coherence_image_path"), row("contrast_schedule"),
            row("optical_flow_cadence cadence_flow_factor_schedule"),
            row("optical_flow_redo_generation redo_flow_factor_schedule"), row("diffusion_redo"),
            row("reroll_blank_frames reroll_patience")),
        tab("Anti Blur", row("amount_schedule"), row("kernel_schedule"), row("sigma_schedule"),
            row("threshold_schedule")),
        tab("Depth Warping & FOV", help_("depth_2d"), row("depth_algorithm midas_weight"), help_("leres"),
            row("padding_mode sampling_mode"), row("use_depth_warping save_depth_maps"),
            row("fov_schedule aspect_ratio_schedule aspect_ratio_use_old_formula"),
            row("near_schedule far_schedule")),
        tab("Shakify", row("shake_name shake_intensity shake_speed")),
    ),
)

PROMPTS = tab(
    "Prompts",
    help_("prompts"), row("prompts"), row("animation_prompts_positive"), row("animation_prompts_negative"),
    accordion("Composable Mask scheduling", help_("composable_masks"), row("mask_schedule"),
              row("use_noise_mask noise_mask_schedule")),
)

INIT = tab(
    "Init",
    tabs(
        tab("Image Init", row("use_init strength_0_no_init"), row("strength"), row("init_image"),
            widget("init_image_box")),
        tab("Video Init", row("video_init_path"), row("extract_from_frame extract_to_frame extract_nth_frame"),
            row("overwrite_extracted_frames use_mask_video"), row("video_mask_path")),
        tab("Mask Init", row("use_mask use_alpha_as_mask invert_mask overlay_mask"), row("mask_file"),
            row("mask_overlay_blur fill"), row("full_res_mask full_res_mask_padding"),
            row("mask_contrast_adjust mask_brightness_adjust")),
        tab("Parseq", help_("parseq"), row("parseq_manifest"), row("parseq_use_deltas parseq_non_schedule_overrides")),
    ),
)

CONTROLNET = tab("ControlNet", help_("controlnet_missing"),
                 tabs(*(_controlnet_unit(n) for n in range(1, CONTROLNET_UNITS + 1))))

HYBRID = tab(
    "Hybrid Video", help_("hybrid_video"),
    row("hybrid_generate_inputframes hybrid_generate_human_masks hybrid_use_first_frame_as_init_image"),
    row("hybrid_motion hybrid_motion_use_prev_img"),
    row("hybrid_flow_method hybrid_flow_consistency hybrid_consistency_blur"),
    row("hybrid_composite hybrid_use_init_image"),
    row("hybrid_comp_mask_type hybrid_comp_mask_inverse hybrid_comp_mask_equalize"),
    row("hybrid_comp_mask_auto_contrast hybrid_comp_save_extra_frames"),
    accordion("Hybrid Schedules", row("hybrid_comp_alpha_schedule hybrid_comp_mask_blend_alpha_schedule"),
              row("hybrid_comp_mask_contrast_schedule hybrid_flow_factor_schedule"),
              row("hybrid_comp_mask_auto_contrast_cutoff_high_schedule"),
              row("hybrid_comp_mask_auto_contrast_cutoff_low_schedule")),
)

OUTPUT = tab(
    "Output",
    tabs(
        tab("Video Output", row("skip_video_creation fps make_gif"),
            row("delete_imgs delete_input_frames store_frames_in_ram"), row("add_soundtrack soundtrack_path"),
            row("bpm audio_path"),
            row("r_upscale_video r_upscale_model r_upscale_factor r_upscale_keep_imgs"), widget("video_settings")),
        tab("Frame Interpolation", help_("frame_interpolation"), row("frame_interpolation_engine"),
            row("frame_interpolation_x_amount frame_interpolation_slow_mo_enabled frame_interpolation_slow_mo_amount"),
            row("frame_interpolation_keep_imgs frame_interpolation_use_upscaled"),
            accordion("Interpolate an existing video or pictures", widget("interpolate_tool"))),
        tab("Frames to Video", help_("frames_to_video"), widget("frames_to_video")),
        tab("Video Upscaling", widget("upscale_tool")),
        tab("Vid2depth", widget("vid2depth")),
    ),
)

TOP: tuple[Node, ...] = (accordion("Info, Links and Help", help_("main")), row("show_info_on_ui"))
PANELS: tuple[Node, ...] = (RUN, KEYFRAMES, PROMPTS, INIT, CONTROLNET, HYBRID, OUTPUT)
HIDDEN_KEYS: tuple[str, ...] = ()
PROMPT_TEXT_KEYS = ("prompts", "animation_prompts_positive", "animation_prompts_negative")


def walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Every node under nodes, depth first, in layout order."""
    for node in nodes:
        yield node
        kind = node[0]
        if kind == "tab":
            yield from walk(node[2])
        elif kind == "tabs":
            yield from walk(node[1])
        elif kind == "accordion":
            yield from walk(node[2])


def layout_keys(nodes: tuple[Node, ...] = TOP + PANELS) -> list[str]:
    """The setting keys in layout order (as the tab lists its components)."""
    return [key for node in walk(nodes) if node[0] == "row" for key in node[1]]


def widget_names(nodes: tuple[Node, ...] = TOP + PANELS) -> list[str]:
    """The non-setting widgets the layout asks for."""
    return [node[1] for node in walk(nodes) if node[0] == "widget"]


def help_names(nodes: tuple[Node, ...] = TOP + PANELS) -> list[str]:
    """The help blocks the layout shows, in layout order."""
    return [node[1] for node in walk(nodes) if node[0] == "help"]

"""Spec table: DeforumOutputArgs, ParseqArgs and LoopArgs."""

from deforum.models.fields import BOOL, CHOICE, INT, JSON_TEXT, NUMBER, OPTIONAL_STR, SCHEDULE, STR, F, FieldSpec

GUIDED_IMAGES_DEFAULT = (
    '{\n    "0": "https://deforum.github.io/a1/Gi1.png",\n'
    '    "max_f/4-5": "https://deforum.github.io/a1/Gi2.png",\n'
    '    "max_f/2-10": "https://deforum.github.io/a1/Gi3.png",\n'
    '    "3*max_f/4-15": "https://deforum.github.io/a1/Gi4.jpg",\n'
    '    "max_f-20": "https://deforum.github.io/a1/Gi1.png"\n}'
)

PARSEQ_FIELDS: tuple[FieldSpec, ...] = (
    F('parseq_manifest', OPTIONAL_STR, ''),
    F('parseq_use_deltas', BOOL, True),
    F('parseq_non_schedule_overrides', BOOL, True),
)

LOOP_FIELDS: tuple[FieldSpec, ...] = (
    F('use_looper', BOOL, False),
    F('init_images', JSON_TEXT, GUIDED_IMAGES_DEFAULT),
    F('image_strength_schedule', SCHEDULE, '0:(0.75)'),
    F('blendFactorMax', SCHEDULE, '0:(0.35)'),
    F('blendFactorSlope', SCHEDULE, '0:(0.25)'),
    F('tweening_frames_schedule', SCHEDULE, '0:(20)'),
    F('color_correction_factor', SCHEDULE, '0:(0.075)'),
)

OUTPUT_FIELDS: tuple[FieldSpec, ...] = (
    F('skip_video_creation', BOOL, False),
    F('fps', NUMBER, 15, minimum=0, maximum=10000, exclusive_minimum=True),
    F('make_gif', BOOL, False),
    F('delete_imgs', BOOL, False),
    F('delete_input_frames', BOOL, False),
    F('add_soundtrack', CHOICE, 'None', choices=('None', 'File', 'Init Video')),
    F('soundtrack_path', STR, 'https://deforum.github.io/a1/A1.mp3'),
    F('bpm', NUMBER, 0, minimum=0),
    F('audio_path', OPTIONAL_STR, ''),
    F('r_upscale_video', BOOL, False),
    F('r_upscale_factor', CHOICE, 'x2', choices=('x2', 'x3', 'x4')),
    F('r_upscale_model', CHOICE, 'realesr-animevideov3', choices=(
        'realesr-animevideov3', 'realesrgan-x4plus', 'realesrgan-x4plus-anime')),
    F('r_upscale_keep_imgs', BOOL, True),
    F('store_frames_in_ram', BOOL, False),
    F('frame_interpolation_engine', CHOICE, 'None', choices=('None', 'RIFE v4.6', 'FILM')),
    F('frame_interpolation_x_amount', INT, 2, minimum=2, maximum=300),
    F('frame_interpolation_slow_mo_enabled', BOOL, False),
    F('frame_interpolation_slow_mo_amount', INT, 2, minimum=2, maximum=10),
    F('frame_interpolation_keep_imgs', BOOL, True),
    F('frame_interpolation_use_upscaled', BOOL, False),
)

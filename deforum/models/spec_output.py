"""Spec table: DeforumOutputArgs, ParseqArgs and LoopArgs (with their labels and help)."""

from deforum.models.fields import BOOL, CHOICE, INT, JSON_TEXT, NUMBER, OPTIONAL_STR, SCHEDULE, STR, F, FieldSpec

GUIDED_IMAGES_DEFAULT = (
    '{\n    "0": "https://deforum.github.io/a1/Gi1.png",\n'
    '    "max_f/4-5": "https://deforum.github.io/a1/Gi2.png",\n'
    '    "max_f/2-10": "https://deforum.github.io/a1/Gi3.png",\n'
    '    "3*max_f/4-15": "https://deforum.github.io/a1/Gi4.jpg",\n'
    '    "max_f-20": "https://deforum.github.io/a1/Gi1.png"\n}'
)

PARSEQ_FIELDS: tuple[FieldSpec, ...] = (
    F('parseq_manifest', OPTIONAL_STR, '', title='Parseq manifest (JSON or URL)',
      info='a Parseq manifest, pasted or as a URL; its schedules replace the ones in these panels'),
    F('parseq_use_deltas', BOOL, True, title='Use delta values for movement parameters (recommended)',
      info='read Parseq\'s motion as change per frame (as Deforum moves), not as absolute positions'),
    F('parseq_non_schedule_overrides', BOOL, True,
      title='Use FPS, max_frames and cadence from the Parseq manifest, if present',
      info='let the manifest also set the frame rate, frame count and cadence'),
)

LOOP_FIELDS: tuple[FieldSpec, ...] = (
    F('use_looper', BOOL, False, title='Enable guided images mode',
      info='steer the animation through the key pictures below, blending towards each in turn'),
    F('init_images', JSON_TEXT, GUIDED_IMAGES_DEFAULT, title='Images to use for keyframe guidance',
      info='a JSON object of frame (or expression) to picture path or URL'),
    F('image_strength_schedule', SCHEDULE, '0:(0.75)',
      info='how much of the previous frame is kept while moving towards the next key picture'),
    F('blendFactorMax', SCHEDULE, '0:(0.35)', title='Blend factor max',
      info='the most of the key picture blended into a frame'),
    F('blendFactorSlope', SCHEDULE, '0:(0.25)', title='Blend factor slope',
      info='how fast the blend grows towards the key picture'),
    F('tweening_frames_schedule', SCHEDULE, '0:(20)',
      info='frames spent blending from one key picture to the next'),
    F('color_correction_factor', SCHEDULE, '0:(0.075)',
      info='how strongly frames are pulled towards the key picture\'s colours'),
)

OUTPUT_FIELDS: tuple[FieldSpec, ...] = (
    F('skip_video_creation', BOOL, False, info='keep the frames only; make no video at the end'),
    F('fps', NUMBER, 15, minimum=0, maximum=10000, exclusive_minimum=True, slider=(1, 240, 1), title='FPS',
      info='how many frames the video plays each second'),
    F('make_gif', BOOL, False, title='Make GIF', info='also write an animated GIF next to the video'),
    F('delete_imgs', BOOL, False, title='Delete Imgs', info='delete the frame pictures once the video is made'),
    F('delete_input_frames', BOOL, False, title='Delete All Inputframes',
      info='delete the frames extracted from init, mask and hybrid videos when the run ends'),
    F('add_soundtrack', CHOICE, 'None', choices=('None', 'File', 'Init Video'),
      info='put sound on the video: none, an audio file, or the init video\'s own sound'),
    F('soundtrack_path', STR, 'https://deforum.github.io/a1/A1.mp3',
      info='the audio (a file path or a URL) laid under the video'),
    F('bpm', NUMBER, 0, minimum=0, title='BPM',
      info='the music\'s tempo in beats per minute, for `beat` in schedules (0: unused)'),
    F('audio_path', OPTIONAL_STR, '', title='Audio for schedules',
      info='audio file whose loudness, onsets and bass/mid/treble drive schedules (empty: the soundtrack)'),
    F('r_upscale_video', BOOL, False, title='Upscale', info='also write an upscaled copy of the video'),
    F('r_upscale_factor', CHOICE, 'x2', choices=('x2', 'x3', 'x4'), title='Upscale factor',
      info='how many times larger the upscaled video is'),
    F('r_upscale_model', CHOICE, 'realesr-animevideov3', choices=(
        'realesr-animevideov3', 'realesrgan-x4plus', 'realesrgan-x4plus-anime'), title='Upscale model',
      info='Real-ESRGAN model for the upscale; the anime ones suit drawn styles'),
    F('r_upscale_keep_imgs', BOOL, True, title='Keep Imgs (upscale)',
      info='keep the upscaled frames after their video'),
    F('store_frames_in_ram', BOOL, False, title='Store frames in RAM',
      info='the original held frames in memory until the end; here each frame is written as it is made'),
    F('frame_interpolation_engine', CHOICE, 'None', choices=('None', 'RIFE v4.6', 'FILM'), title='Engine',
      info='add frames between the rendered ones for smoother motion, with RIFE or FILM'),
    F('frame_interpolation_x_amount', INT, 2, minimum=2, maximum=300, slider=(2, 10, 1), title='Interp X',
      info='how many times more frames the smooth video has'),
    F('frame_interpolation_slow_mo_enabled', BOOL, False, title='Slow-Mo',
      info='play the added frames at the same frame rate, making slow motion'),
    F('frame_interpolation_slow_mo_amount', INT, 2, minimum=2, maximum=10, slider=(2, 10, 1), title='Slow-Mo X',
      info='how many times slower the slow-motion video plays'),
    F('frame_interpolation_keep_imgs', BOOL, True, title='Keep Imgs (interpolation)',
      info='keep the interpolated frames after their video'),
    F('frame_interpolation_use_upscaled', BOOL, False, title='Use Upscaled',
      info='interpolate the upscaled video rather than the original'),
)

# The three prompt boxes (not FieldSpecs: they hold the prompts mapping and two strings merged into each prompt).
PROMPT_TEXT: dict[str, tuple[str, str]] = {
    "prompts": ("Prompts", 'a JSON object of frame (or expression) to prompt, e.g. {"0": "a forest", "60": "a city"};'
                           " text after --neg is that prompt's negative"),
    "animation_prompts_positive": ("Prompts positive", "added to the start of every prompt"),
    "animation_prompts_negative": ("Prompts negative", "added to every prompt's negative"),
}

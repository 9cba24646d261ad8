"""The animation-mode table and the typed settings groups built from the spec tables."""

from __future__ import annotations

import dataclasses
from typing import Literal, get_args, get_origin

import pytest

from deforum.models.fields import Kind
from deforum.models.modes import ANIMATION_MODES, MODES, AnimationMode, traits
from deforum.models.settings import FIELD_SPECS, GROUPS, DeforumAnimArgs


def test_the_mode_table_covers_exactly_the_settings_choices() -> None:
    assert ANIMATION_MODES == FIELD_SPECS["animation_mode"].choices == tuple(MODES)


def test_mode_traits_are_the_originals() -> None:
    assert [m for m in ANIMATION_MODES if traits(m).camera_motion] == ["2D", "3D"]
    assert [m for m in ANIMATION_MODES if traits(m).depth_warp] == ["3D"]
    assert [m for m in ANIMATION_MODES if traits(m).cadence] == ["2D", "3D"]
    assert [m for m in ANIMATION_MODES if traits(m).video_init] == ["Video Input"]
    assert [m for m in ANIMATION_MODES if traits(m).blends_prompts] == ["Interpolation"]
    assert [m for m in ANIMATION_MODES if traits(m).hybrid] == ["2D", "3D", "Video Input"]
    assert [m for m in ANIMATION_MODES if not traits(m).frame_by_frame] == ["Wan Video"]


def test_an_unknown_mode_names_the_setting() -> None:
    with pytest.raises(ValueError, match="animation_mode.*'4D'"):
        traits("4D")


def test_animation_mode_is_typed_as_the_literal() -> None:
    annotation = {f.name: f.type for f in dataclasses.fields(DeforumAnimArgs)}["animation_mode"]
    assert get_origin(annotation) is Literal and get_args(annotation) == get_args(AnimationMode)


def test_every_choice_field_is_a_literal_of_its_choices_and_other_kinds_have_types() -> None:
    for _, group in GROUPS:
        types = {f.name: f.type for f in dataclasses.fields(group)}
        for spec in group.SPECS:
            if spec.kind is Kind.CHOICE:
                assert get_origin(types[spec.key]) is Literal and get_args(types[spec.key]) == spec.choices
            elif spec.kind in (Kind.BOOL, Kind.INT, Kind.FLOAT):
                assert types[spec.key] is {Kind.BOOL: bool, Kind.INT: int, Kind.FLOAT: float}[spec.kind]

"""Our scan settings as SANE options: grey, the dpi, the area, and the caller's extras.

python-sane exposes a device's options as attributes (`dev.resolution = 300`) and
describes them in `dev.opt`; it silently clamps a value out of range and silently
accepts a name the device does not have, so every value is checked here first and
refused in words the teller understands.
"""

from __future__ import annotations

from typing import Any

from model.errors import CaptureError
from sigverify_gui.services.capture.base import (
    OptionValue,
    ScanArea,
    ScanSettings,
    nearest_offered,
)

# SANE's fixed option codes (SANE standard, section 4.2.9): types and units.
_TYPE_BOOL, _TYPE_INT, _TYPE_FIXED, _TYPE_STRING = 0, 1, 2, 3
_UNIT_MM = 3
# Settings the app makes itself; as extras they were overwritten (resolution) or made
# no difference (the capture is grey whatever the mode), without a word.
_OWN_SETTINGS = {
    "resolution": "the resolution is the scan's own dpi setting",
    "mode": "sigverify scans in grey",
    "depth": "sigverify scans at 8 bits",
    **dict.fromkeys(("tl-x", "tl-y", "br-x", "br-y"), "the area is the scan's own setting"),
}
_GREY_MODES = ("gray", "grey", "grayscale", "greyscale", "gray8", "8bit gray", "true gray")


def configure(dev: Any, settings: ScanSettings, errors: tuple) -> float | None:
    """Grey, the dpi and area asked for, then the extra options; returns the dpi the
    scanner will actually use (None when it has no resolution setting)."""
    for name in settings.options:
        why = _OWN_SETTINGS.get(name.replace("_", "-").lower())
        if why:
            raise CaptureError(f"The scanner setting '{name}' is not an extra one: {why}.")
    modes = _constraint(dev, "mode")
    if isinstance(modes, list):
        grey = next((m for m in modes if str(m).lower() in _GREY_MODES), None)
        if grey is not None:  # else scan in its only mode and reduce to grey after
            _set(dev, "mode", grey, errors)
    for name, value in settings.options.items():
        _set(dev, name.replace("-", "_"), value, errors, name)
    if 8 in (_constraint(dev, "depth") or ()):
        _set(dev, "depth", 8, errors)
    dpi = _set_resolution(dev, settings.dpi, errors, settings.exact_dpi)
    _set_area(dev, settings.area, errors)
    return dpi


def _settable(dev: Any, name: str) -> Any | None:
    opt = dev.opt.get(name)
    if opt is None or not opt.is_active() or not opt.is_settable():
        return None
    return opt


def _constraint(dev: Any, name: str) -> Any:
    opt = _settable(dev, name)
    return None if opt is None else opt.constraint


def _set(dev: Any, name: str, value: OptionValue, errors: tuple, shown: str = "") -> None:
    opt = _settable(dev, name)
    if opt is None:
        raise CaptureError(f"This scanner has no setting '{shown or name}' that can be changed.")
    try:
        if opt.type == _TYPE_BOOL:
            value = _switch(value)
        elif opt.type == _TYPE_INT:
            value = int(value)
        elif opt.type == _TYPE_FIXED:
            value = float(value)
        elif opt.type == _TYPE_STRING:
            value = str(value)
    except (TypeError, ValueError) as err:
        kind = "yes or no" if opt.type == _TYPE_BOOL else "a number"
        raise CaptureError(
            f"The scanner setting {shown or name} takes {kind}, not {value!r}."
        ) from err
    value = _as_offered(opt.constraint, value)
    _require_allowed(opt.constraint, value, shown or name)
    try:
        setattr(dev, name, value)
    except (*errors, AttributeError, TypeError, ValueError) as err:
        raise CaptureError(
            f"The scanner refused the setting {shown or name} = {value} ({err})."
        ) from err


def _switch(value: OptionValue) -> int:
    """A SANE switch as `scanimage` takes it: yes/no, on/off, true/false, or 1/0."""
    words = {"yes": 1, "on": 1, "true": 1, "no": 0, "off": 0, "false": 0}
    text = str(value).strip().lower()
    if text in words:
        return words[text]
    if text in ("0", "1"):
        return int(text)
    raise ValueError(f"not a switch: {value!r}")


def _require_allowed(constraint: Any, value: Any, shown: str) -> None:
    """python-sane clamps a value out of the device's range without a word (a delay of
    999999999 became the longest it takes): refused here instead."""
    if isinstance(constraint, tuple) and len(constraint) >= 2 and isinstance(value, float | int):
        low, high = constraint[0], constraint[1]
        if not low <= value <= high:
            raise CaptureError(
                f"This scanner's setting {shown} takes {low:g} to {high:g}, not {value}."
            )
    elif isinstance(constraint, list) and constraint and value not in constraint:
        offered = ", ".join(str(v) for v in constraint)
        raise CaptureError(f"This scanner's setting {shown} takes {offered}, not {value}.")


def _as_offered(constraint: Any, value: Any) -> Any:
    """A word as the device spells it ("flatbed" for "Flatbed"): SANE's own tools take
    either case."""
    if isinstance(constraint, list) and isinstance(value, str):
        same = [v for v in constraint if isinstance(v, str) and v.lower() == value.lower()]
        if len(same) == 1:
            return same[0]
    return value


def _set_resolution(dev: Any, dpi: float, errors: tuple, exact: bool = True) -> float | None:
    allowed = _constraint(dev, "resolution")
    if _settable(dev, "resolution") is None:
        return None
    if not exact:
        dpi = nearest_offered(allowed, dpi)
    if isinstance(allowed, tuple) and not allowed[0] <= dpi <= allowed[1]:
        raise CaptureError(
            f"This scanner scans at {allowed[0]:g} to {allowed[1]:g} dpi, not at {dpi} dpi."
        )
    if isinstance(allowed, list) and dpi not in allowed:
        offered = ", ".join(f"{v:g}" for v in allowed)
        raise CaptureError(f"This scanner scans at {offered} dpi, not at {dpi} dpi.")
    _set(dev, "resolution", dpi, errors)
    return float(dev.resolution)  # what it will really use (it may round)


def _set_area(dev: Any, area: ScanArea | None, errors: tuple) -> None:
    """Set the area, or the whole glass for None: backends keep the last scan's area
    from one opening to the next, and another program may have left a small one."""
    names = ("tl_x", "tl_y", "br_x", "br_y")
    opts = [_settable(dev, n) for n in names]
    usable = all(o and o.unit == _UNIT_MM and isinstance(o.constraint, tuple) for o in opts)
    if area is None:
        if usable:
            for name, opt, end in zip(names, opts, (0, 0, 1, 1), strict=True):
                _set(dev, name, opt.constraint[end], errors)
        return
    if not usable:
        raise CaptureError(
            "This scanner does not take a scan area in millimetres; scan without one."
        )
    width_max, height_max = opts[2].constraint[1], opts[3].constraint[1]
    if area.right > width_max or area.bottom > height_max:
        raise CaptureError(
            f"The scan area reaches {area.right:g} x {area.bottom:g} mm, but this scanner "
            f"covers {width_max:g} x {height_max:g} mm."
        )
    # Corners first to their minimum: a backend refuses a top-left beyond the
    # current bottom-right, whatever the order of the new values.
    _set(dev, "tl_x", opts[0].constraint[0], errors)
    _set(dev, "tl_y", opts[1].constraint[0], errors)
    _set(dev, "br_x", area.right, errors)
    _set(dev, "br_y", area.bottom, errors)
    _set(dev, "tl_x", area.x, errors)
    _set(dev, "tl_y", area.y, errors)

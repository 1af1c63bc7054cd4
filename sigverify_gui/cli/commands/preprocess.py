"""`sigverify preprocess IMAGE -o OUT.png`: see exactly what the network is shown.

Writes the canvas that `model.preprocess.preprocess` makes (ink bright on black, the
size the network reads) as an 8-bit PNG, and optionally the ink mask at the image's
own size, to check a scan, a scanner setting or a change to preprocessing by eye.
"""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.cli.output import (
    add_json_flag,
    check_png_target,
    emit,
    file_path,
    positive_int,
    write_file,
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "preprocess",
        help="write the picture the model sees for a scan",
        description=(
            "Run the model's preprocessing on an image and write its input canvas "
            "(white ink on black) as a PNG."
        ),
    )
    p.add_argument("image", metavar="IMAGE", type=file_path, help="image or PDF file")
    p.add_argument(
        "-o", "--out", required=True, type=file_path, metavar="OUT.png", help="canvas PNG to write"
    )
    p.add_argument(
        "--mask", type=file_path, metavar="MASK.png", help="also write the ink mask (white = ink)"
    )
    p.add_argument(
        "--page", type=positive_int, default=1, metavar="N", help="page of a PDF or TIFF (from 1)"
    )
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from model.imageio import encode_png, load_image
    from model.preprocess import preprocess

    targets = [args.out] + ([args.mask] if args.mask else [])
    for i, target in enumerate(targets):  # before any work: a bad second leaves no first
        check_png_target(target, reads=[args.image], writes=targets[:i])
    loaded = load_image(args.image, page=args.page - 1)
    result = preprocess(loaded.gray)  # BlankImageError is a SigverifyError: exit 2
    canvas = np.clip(result.canvas * 255.0 + 0.5, 0, 255).astype(np.uint8)
    pictures = [encode_png(canvas)]
    if args.mask:
        pictures.append(encode_png(result.ink_mask.astype(np.uint8) * 255))
    _write_all(targets, pictures)
    data = {
        "out": str(args.out),
        "mask": str(args.mask) if args.mask else None,
        "box": list(result.box),
        "version": result.version,
        "canvas": list(canvas.shape),
    }
    x, y, w, h = result.box
    human = f"wrote {args.out} ({canvas.shape[1]}x{canvas.shape[0]}, {result.version}); "
    human += f"signature at x={x} y={y}, {w}x{h} px"
    if loaded.page_count > 1:
        human += f" on page {args.page} of {loaded.page_count}"
    if args.mask:
        human += f"; mask in {args.mask}"
    emit(args, data, human)
    return 0


def _write_all(paths: list[Path], pictures: list[bytes]) -> None:
    """Write every file or none: a failed write removes those already written."""
    written: list[Path] = []
    try:
        for path, data in zip(paths, pictures, strict=True):
            write_file(path, data)
            written.append(path)
    except BaseException:
        for done in written:
            done.unlink(missing_ok=True)
        raise

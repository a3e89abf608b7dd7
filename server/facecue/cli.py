"""Command line: ``facecue generate | demo | serve | describe``.

Every error prints one line ``facecue: error: …`` and exits with status 2 (bad input, limits,
paths, permissions, a full disk); a bug prints one line and exits 1 (``FACECUE_DEBUG=1`` shows
its traceback). No half-written take is ever left behind.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .errors import FaceCueError, InvalidInput

SAMPLES = Path(__file__).resolve().parent / "samples"


def _parser() -> argparse.ArgumentParser:
    from .names import EMOTIONS
    from .neural.config import TrainConfig
    parser = argparse.ArgumentParser(prog="facecue", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"facecue {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="make a take from speech, a photo and an emotion")
    gen.add_argument("--audio", required=True, help="speech recording (wav, flac, ogg, mp3, …)")
    gen.add_argument("--image", required=True, help="reference face photo")
    _take_options(gen, EMOTIONS)
    gen.add_argument("--out", required=True, type=Path, help="take directory to create")

    demo = sub.add_parser("demo", help="generate a take from the bundled sample face and speech")
    demo.add_argument("--emotion", default="happy", choices=EMOTIONS)
    demo.add_argument("--out", type=Path, default=Path("takes/demo"))
    _render_options(demo)

    render = sub.add_parser("render", help="render (or re-render) the frames of an existing take")
    render.add_argument("take", type=Path, help="take directory")
    render.add_argument("--image", required=True, help="the photo the take was made from")
    _render_options(render)

    batch = sub.add_parser("batch", help="make every take of a JSON-lines manifest (resumable; local or on Ray)")
    batch.add_argument("manifest", type=Path, help="one JSON object per line: name, audio, image, emotion, …")
    batch.add_argument("--out", required=True, type=Path, help="folder for the takes and batch_report.jsonl")
    batch.add_argument("--workers", type=int, default=1, help="local worker processes")
    batch.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster: its address, 'auto', or 'local'")
    batch.add_argument("--gpus-per-take", type=float, default=0.0, help="GPU share each Ray task asks for")
    batch.add_argument("--ray-keep-warm", type=float, default=None, metavar="SECONDS",
                       help="on a running Ray cluster, how long the workers stay loaded after the batch "
                            "for the next one (default 60; 0 releases them at once)")

    prepare = sub.add_parser("prepare", help="talking-face videos (MEAD layout) → prepared training clips")
    prepare.add_argument("dataset", type=Path, help="folder with <actor>/video/front/<emotion>/level_<n>/<clip>.mp4")
    prepare.add_argument("--out", required=True, type=Path, help="cache folder for the prepared clips")

    corpus = sub.add_parser("corpus", help="build a training corpus (synthetic or recorded speech, procedural cues)")
    corpus.add_argument("--out", required=True, type=Path)
    corpus.add_argument("--voices", choices=("espeak-ng", "flite+festival", "recorded"), default="espeak-ng",
                        help="synthetic voices, or the development set's real recordings (default espeak-ng)")
    corpus.add_argument("--clips", type=int, default=200,
                        help="clips to make; with --voices recorded, renditions of each recording")
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--held-out", action="store_true",
                        help="an evaluation split: sentences and voices (or speakers) the training split never has")

    train = sub.add_parser("train", help="train the neural cue model on prepared clips (prepare / corpus)")
    train.add_argument("dataset", type=Path, help="prepared clip cache (with index.jsonl)")
    train.add_argument("--out", required=True, type=Path, help="checkpoint file to write")
    train.add_argument("--steps", type=int, default=TrainConfig.steps)
    train.add_argument("--batch", type=int, default=TrainConfig.batch)
    train.add_argument("--seed", type=int, default=TrainConfig.seed)
    train.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all)")
    train.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    train.add_argument("--version", default="neural-custom", help="model version recorded in every take")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run (same settings)")
    train.add_argument("--save-every", type=int, default=500, help="steps between saved training states")

    evaluate = sub.add_parser("eval", help="the paper's metrics for a checkpoint on prepared clips")
    evaluate.add_argument("dataset", type=Path, help="prepared clip cache (with index.jsonl)")
    evaluate.add_argument("--checkpoint", type=Path, help="default: the bundled model")
    evaluate.add_argument("--out", type=Path, help="also write the full report here (JSON)")
    evaluate.add_argument("--device", help="cpu or cuda (default: cuda when present)")

    livelink = sub.add_parser("livelink", help="play a take to Unreal as a Live Link Face source (UDP)")
    livelink.add_argument("--take", required=True, type=Path, help="take directory")
    livelink.add_argument("--target", default="127.0.0.1:11111", help="host:port of Unreal's Live Link Face source")
    livelink.add_argument("--subject", default="FaceCue", help="Live Link subject name")
    livelink.add_argument("--fps", type=float, help="send at this rate instead of the take's")

    serve = sub.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=50051)
    serve.add_argument("--store", type=Path, help="where finished takes are kept (default ~/.cache/facecue/takes)")
    serve.add_argument("--storage-root", type=Path, action="append", default=[],
                       help="directory clients may name inputs in (repeatable); path inputs are off without one")
    serve.add_argument("--workers", type=int, default=8, help="concurrent requests")
    serve.add_argument("--max-audio-seconds", type=float, default=600.0)
    serve.add_argument("--max-message-mb", type=float, default=64.0, help="largest gRPC message (uploads included)")
    serve.add_argument("--token", help="require this bearer token on every call: @FILE reads it from a file "
                                        "(default $FACECUE_TOKEN; a token typed here shows in process lists)")
    serve.add_argument("--tls-cert", type=Path, help="serve TLS with this certificate chain (PEM)")
    serve.add_argument("--tls-key", type=Path, help="… and this private key (PEM)")
    serve.add_argument("--max-running-jobs", type=int, default=2, help="takes made at once")
    serve.add_argument("--max-queued-jobs", type=int, default=32, help="takes waiting before calls are refused")
    serve.add_argument("--max-job-seconds", type=float, default=3600.0,
                       help="stop a take still being made after this long (clients' own deadlines also stop it)")
    serve.add_argument("--max-streams", type=int, default=8, help="Stream calls open at once")
    serve.add_argument("--stream-idle-seconds", type=float, default=30.0,
                       help="close a Stream whose client sends nothing for this long")
    serve.add_argument("--store-quota-gb", type=float, help="evict least recently used takes beyond this size")
    serve.add_argument("--checkpoint", type=Path, help="neural backend weights (default: the bundled model)")
    serve.add_argument("--device", help="where the neural backend runs: cpu or cuda (default: cuda when present)")
    serve.add_argument("--live", metavar="ADDRESS", help="publish every take's frames on ZeroMQ, e.g. tcp://*:5556")
    serve.add_argument("--livelink", metavar="HOST:PORT",
                       help="also play every generated take to this Live Link Face target as it streams")

    describe = sub.add_parser("describe", help="print what a server (or this install) offers, as JSON")
    describe.add_argument("--server", help="host:port of a running server (default: this install)")
    return parser


def _take_options(parser: argparse.ArgumentParser, emotions) -> None:
    from .config import BACKENDS
    parser.add_argument("--emotion", default="neutral", help=f"one of: {', '.join(emotions)}, or auto (from the voice)")
    parser.add_argument("--intensity", type=float, default=1.0, help="emotion intensity in [0, 1]")
    parser.add_argument("--intensity-curve", help="per-frame intensity: 't:v,t:v,…' (seconds:[0,1]) or @keys.json")
    parser.add_argument("--region", action="append", default=[], metavar="REGION=EMOTION[:W][,EMOTION:W]",
                        help="emotion mix of one face region (mouth, eyes, brows), e.g. mouth=happy eyes=sad:0.7,fear:0.3")
    parser.add_argument("--lip-scale", type=float, default=1.0, help="speech mouth motion × this, [0, 2]")
    parser.add_argument("--head-scale", type=float, default=1.0, help="head motion × this, [0, 2]")
    parser.add_argument("--gaze", action=argparse.BooleanOptionalAction, default=True,
                        help="let the eyes wander (--no-gaze: straight ahead)")
    parser.add_argument("--keep-photo-expression", action="store_true",
                        help="start from the photo's face as it is (by default a smile or frown in the photo is "
                             "taken out, so 'neutral' is neutral)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate of the take (e.g. 24, 25, 29.97)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="procedural", choices=BACKENDS,
                        help="cue model: rules timed by the phones, or the trained sequentializers")
    parser.add_argument("--checkpoint", type=Path, help="neural backend weights (default: the bundled model)")
    parser.add_argument("--transcript", help="what is said, or @file.txt: sharper lip timing")
    parser.add_argument("--max-audio-seconds", type=float, default=600.0)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing take directory")
    _render_options(parser)


def _render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--render", action=argparse.BooleanOptionalAction, default=True,
                        help="render frames of the face speaking (default: on)")
    parser.add_argument("--size", default="512",
                        help="frame size: an edge in px for a square portrait (256, 512, …), 'crop' for the "
                             "portrait at the photo's own resolution, or 'full' for the whole photo")
    parser.add_argument("--image-format", default="png", choices=("png", "jpeg", "exr"),
                        help="format of frames/…; EXR is half-float scene-linear")
    parser.add_argument("--video", action=argparse.BooleanOptionalAction, default=True,
                        help="also write take.mp4 (H.264 + AAC) with the audio (default: on)")


def _controls(args):
    from .config import Controls
    curve = None
    if args.intensity_curve:
        text = args.intensity_curve
        try:
            if text.startswith("@"):
                curve = tuple((float(t), float(v)) for t, v in json.loads(Path(text[1:]).read_text()))
            else:
                curve = tuple((float(t), float(v)) for t, v in (pair.split(":") for pair in text.split(",")))
        except (OSError, ValueError) as err:
            raise InvalidInput(f"intensity curve '{text}' is not 't:v,t:v,…' or a JSON file of [t, v] pairs ({err})") from None
    regions = []
    for item in args.region:
        region, _, mix = item.partition("=")
        try:
            pairs = tuple((e, float(w) if w else 1.0) for e, _, w in (part.partition(":") for part in mix.split(",")))
        except ValueError:
            raise InvalidInput(f"region mix '{item}' should look like mouth=happy:0.7,sad:0.3") from None
        regions.append((region, pairs))
    controls = Controls(intensity_curve=curve, regions=tuple(regions), lip_scale=args.lip_scale,
                        head_scale=args.head_scale, gaze=args.gaze,
                        keep_photo_expression=args.keep_photo_expression)
    controls.check()
    return controls


def _render_request(args):
    from .config import RenderOptions, RenderSize
    if not args.render:
        return None
    return RenderOptions(size=RenderSize.parse(args.size), image_format=args.image_format, video=args.video)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="facecue: %(message)s")
    try:
        commands = {"generate": _generate, "demo": _demo, "render": _render, "batch": _batch, "livelink": _livelink,
                    "prepare": _prepare, "corpus": _corpus,
                    "train": _train, "eval": _eval, "serve": _serve, "describe": _describe}
        return commands[args.command](args)
    except FaceCueError as err:
        print(f"facecue: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:                       # a full disk, a read-only or vanished folder, …
        where = f" ({err.filename})" if err.filename else ""
        print(f"facecue: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facecue: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as err:                     # a bug: one line, the traceback on request
        if os.environ.get("FACECUE_DEBUG"):
            raise
        print(f"facecue: internal error: {err!r} (FACECUE_DEBUG=1 shows where)", file=sys.stderr)
        return 1


def _warn(message: str) -> None:
    print(f"facecue: warning: {message}", file=sys.stderr)


def _transcript(value: str | None) -> str | None:
    if value and value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise InvalidInput(f"transcript file '{path}' does not exist")
        return path.read_text(encoding="utf-8")
    return value


def _generate(args) -> int:
    from .config import Limits, TakeRequest
    request = TakeRequest(audio=args.audio, image=args.image, emotion=args.emotion, intensity=args.intensity,
                          fps=args.fps, seed=args.seed, transcript=_transcript(args.transcript),
                          render=_render_request(args), controls=_controls(args), backend=args.backend)
    request.check()
    return _run(request, args.out, args.overwrite, Limits(max_audio_s=args.max_audio_seconds), args.checkpoint)


def _demo(args) -> int:
    from .config import TakeRequest
    request = TakeRequest(audio=SAMPLES / "speech.wav", image=SAMPLES / "face.jpg", emotion=args.emotion,
                          transcript=(SAMPLES / "speech.txt").read_text(encoding="utf-8"),
                          render=_render_request(args))
    return _run(request, args.out, overwrite=True)


def _progress_bar():
    from tqdm import tqdm
    bar = tqdm(total=100, desc="facecue", unit="%", bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
               disable=None)

    def progress(stage: str, fraction: float) -> None:
        bar.set_postfix_str(stage)
        bar.update(round(fraction * 100) - bar.n)
    return bar, progress


def _render(args) -> int:
    from . import take as take_io
    from .pipeline import Pipeline
    options = _render_request(args)
    if options is None:
        raise InvalidInput("facecue render needs frames: drop --no-render")
    take = take_io.load(args.take)
    bar, progress = _progress_bar()
    with bar:
        path = take_io.write(Pipeline().render_take(take, args.image, options, progress), args.take, overwrite=True)
    print(f"rendered {take.frame_count} frames ({options.size} {options.image_format}"
          f"{' + take.mp4' if options.video else ''}) into {path}")
    return 0


def _run(request, out: Path, overwrite: bool, limits=None, checkpoint: Path | None = None) -> int:
    from . import take as take_io
    from .pipeline import Pipeline
    take_io.check_output(out, overwrite=overwrite)     # fail before the work; write() checks again
    bar, progress = _progress_bar()
    with bar:
        take = Pipeline(limits, checkpoint=checkpoint).run(request, progress)
        bar.set_postfix_str("writing")
        path = take_io.write(take, out, overwrite=overwrite)
    for warning in take.manifest.get("warnings", []):
        _warn(warning)
    m = take.manifest
    frames = f", frames {request.render.size} {request.render.image_format}" if request.render else ""
    video = " + take.mp4" if request.render and request.render.video else ""
    print(f"wrote take {path} ({m['frame_count']} frames at {m['fps']:g} fps, {m['duration_s']:.2f} s, "
          f"{m.get('emotion_shown', m['emotion'])}{frames}{video})")
    return 0


def _batch(args) -> int:
    import time

    from tqdm import tqdm

    from . import batch
    jobs = batch.read_manifest(args.manifest)             # refuse a bad manifest before any work
    keep_warm_s = batch.KEEP_WARM_S if args.ray_keep_warm is None else args.ray_keep_warm
    if not 0 <= keep_warm_s < float("inf"):
        raise InvalidInput(f"--ray-keep-warm must be 0 or more seconds, not {keep_warm_s:g}")
    start = time.perf_counter()
    with tqdm(total=len(jobs), desc="facecue batch", unit="take", disable=None) as bar:
        def progress(outcome, done, total):
            bar.set_postfix_str(f"{outcome.name}: {outcome.status}")
            bar.update(1)
        outcomes = batch.run(args.manifest, args.out, workers=args.workers, ray_address=args.ray,
                             gpus_per_take=args.gpus_per_take, keep_warm_s=keep_warm_s, progress=progress)
    print(batch.summary(outcomes, time.perf_counter() - start))
    if args.ray and args.ray != "local" and keep_warm_s > 0:
        print(f"Ray workers stay loaded on the cluster for {keep_warm_s:g} s for the next batch "
              "(--ray-keep-warm 0 releases them at once)")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


def _prepare(args) -> int:
    from tqdm import tqdm

    from .dataset.prepare import REPORT, find_clips, prepare
    total = len(find_clips(args.dataset))
    with tqdm(total=total, desc="facecue prepare", unit="clip", disable=None) as bar:
        counts = prepare(args.dataset, args.out, progress=lambda clip, counts: bar.update(1))
    print(f"{counts['prepared']} clips prepared, {counts['skipped']} already done, {counts['failed']} failed"
          + (f" (see {args.out / REPORT})" if counts["failed"] else "") + f" in {args.out}")
    return 1 if counts["failed"] else 0


def _corpus(args) -> int:
    from tqdm import tqdm

    from .dataset import recorded, synthetic
    from .dataset.voices import require
    if args.clips < 1:
        raise InvalidInput("--clips must be at least 1")
    if args.voices == "recorded":
        total = args.clips * len(recorded.clip_names(args.held_out))
    else:
        total = args.clips
        for engine in args.voices.split("+"):
            try:
                require(engine)
            except RuntimeError as error:
                raise InvalidInput(str(error)) from None
    with tqdm(total=total, desc="facecue corpus", unit="clip", disable=None) as bar:
        def advance(done, _total):
            bar.update(done - bar.n)
        if args.voices == "recorded":
            paths = recorded.build(args.out, args.clips, seed=args.seed, held_out=args.held_out, progress=advance)
        else:
            paths = synthetic.build(args.out, args.clips, seed=args.seed, held_out=args.held_out, voices=args.voices,
                                    balanced=args.held_out, progress=advance)
    print(f"{len(paths)} clips ({args.voices}) in {args.out}")
    return 0


def _train(args) -> int:
    from tqdm import tqdm

    from .neural.config import TrainConfig
    from .neural.training import state_path, train
    if args.steps < 1 or args.batch < 1:
        raise InvalidInput("--steps and --batch must be at least 1")
    recipe = TrainConfig(steps=args.steps, batch=args.batch, seed=args.seed, threads=args.threads)
    if args.save_every < 1:
        raise InvalidInput("--save-every must be at least 1")
    with tqdm(total=args.steps, desc="facecue train", unit="step", disable=None) as bar:
        def progress(step: int, losses: dict) -> None:
            bar.n = step
            bar.refresh()
            if step % 50 == 0:
                bar.set_postfix({k: f"{v:.3f}" for k, v in losses["train"].items()})
        try:
            summary = train(args.dataset, args.out, tcfg=recipe, version=args.version, device=args.device,
                            progress=progress, resume=args.resume, save_every=args.save_every)
        except KeyboardInterrupt:
            print(f"facecue: interrupted; continue with the same command and --resume "
                  f"(state every {args.save_every} steps in {state_path(args.out)})", file=sys.stderr)
            return 130
    final = summary["final_loss"]["validation"]
    print(f"wrote {args.out}: {summary['clips']['train']} training clips, {summary['seconds']:.0f} s; validation "
          + ", ".join(f"{k} {v:.3f}" for k, v in final.items()))
    return 0


def _eval(args) -> int:
    from tqdm import tqdm

    from .neural.backend import NeuralBackend
    from .neural.evaluation import evaluate, format_report
    backend = NeuralBackend(args.checkpoint, device=args.device)
    backend.loaded                                   # a bad checkpoint fails here, before any work
    with tqdm(desc="facecue eval", unit="clip", disable=None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        report = evaluate(args.dataset, backend, progress=progress)
    report["checkpoint"] = {"path": str(backend.loaded.path), "version": backend.version}
    print(format_report(report))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _livelink(args) -> int:
    from . import livelink, take as take_io
    target = livelink.parse_target(args.target)
    take = take_io.load(args.take)
    print(f"sending {take.frame_count} frames at {args.fps or take.fps:g} fps to {args.target} "
          f"as Live Link subject '{args.subject}'", flush=True)
    report = livelink.send_take(take, target, subject=args.subject, fps=args.fps)
    jitter = report.jitter_ms()
    print(f"sent {len(report.sent_at)} frames; lateness mean {jitter['mean']:.2f} ms, p95 {jitter['p95']:.2f} ms, "
          f"max {jitter['max']:.2f} ms")
    return 0


def _serve(args) -> int:
    from .config import Limits
    from .livelink import parse_target
    from .security import read_token
    from .server import ServerConfig, build_server
    config = ServerConfig(host=args.host, port=args.port, storage_roots=tuple(args.storage_root),
                          workers=args.workers, limits=Limits(max_audio_s=args.max_audio_seconds,
                                                              max_message_bytes=int(args.max_message_mb * 2**20)),
                          livelink=parse_target(args.livelink) if args.livelink else None,
                          token=read_token(args.token or os.environ.get("FACECUE_TOKEN"),
                                           warn=_warn if args.token else None),
                          tls_cert=args.tls_cert, tls_key=args.tls_key,
                          max_running_jobs=args.max_running_jobs, max_queued_jobs=args.max_queued_jobs,
                          max_job_s=args.max_job_seconds, max_streams=args.max_streams,
                          stream_idle_s=args.stream_idle_seconds,
                          live=args.live,
                          store_max_bytes=int(args.store_quota_gb * 2**30) if args.store_quota_gb else None,
                          bound_cpu_threads=True, checkpoint=args.checkpoint, device=args.device)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise InvalidInput("TLS needs both --tls-cert and --tls-key")
    if args.store:
        config.store = args.store
    server, port = build_server(config)
    server.start()
    print(f"facecue server listening on {args.host}:{port} (store {config.store})", flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(grace=2).wait()
    return 0


def _describe(args) -> int:
    from google.protobuf.json_format import MessageToDict
    if args.server:
        from .client import FaceCueClient, FaceCueClientError
        try:
            with FaceCueClient(args.server, timeout_s=10) as client:
                response = client.describe()
        except FaceCueClientError as err:
            print(f"facecue: error: cannot describe server {args.server}: {err}", file=sys.stderr)
            return 1
    else:
        from .config import Limits
        from .pipeline import Pipeline
        from .server import describe
        response = describe(Pipeline(), Limits())
    info = MessageToDict(response, preserving_proto_field_name=True)
    info.pop("triangles", None)
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generates the gRPC code from proto/ as part of every build (wheel, sdist, editable)."""
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent


def generate_grpc_code() -> None:
    from grpc_tools import protoc
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    for proto in sorted((ROOT / "proto").rglob("*.proto")):
        args = ["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", f"--python_out={ROOT / 'server'}",
                f"--pyi_out={ROOT / 'server'}", f"--grpc_python_out={ROOT / 'server'}", str(proto)]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {proto}")


# Every build hook (metadata, wheel, editable) evaluates this file, so this one call
# keeps the generated code in step with proto/.
generate_grpc_code()
setup()

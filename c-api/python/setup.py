# Only the wheel's tags live here (the metadata is in pyproject.toml). When build-wheel.sh has put libpulsar.so
# into the package, the wheel holds a native library: it is tagged py3-none-<platform> (any Python 3, this
# machine's platform) instead of pure py3-none-any. Without the library (a source install that uses PULSAR_LIB
# or an installed libpulsar) it stays pure.
from pathlib import Path

from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

BUNDLED = (Path(__file__).resolve().parent / "publisher_pulsar" / "libpulsar.so").is_file()


class BinaryDistribution(Distribution):
    """With the library bundled, the package goes to platlib (auditwheel refuses libraries in purelib)."""

    def has_ext_modules(self):
        return BUNDLED


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        if BUNDLED:
            self.root_is_pure = False

    def get_tag(self):
        python, abi, platform = super().get_tag()
        return ("py3", "none", platform) if BUNDLED else (python, abi, platform)


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": PlatformWheel})

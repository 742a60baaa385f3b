# lit configuration for nnc. Tests are .nn files (and .test scripts) with
# RUN: lines; %nnc is the compiler under test, %examples the examples/ folder,
# %nnc_fuzz the folder of the fuzz targets (replay programs in this build).
import os
import subprocess
import lit.formats

config.name = "nnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".nn", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nnc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.nnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Diagnostics and dumps must not depend on the terminal.
config.environment["TERM"] = "dumb"

config.substitutions.append(("%nnc_fuzz", config.nnc_fuzz_dir))
config.substitutions.append(("%nnc", os.path.join(config.nnc_tools_dir, "nnc")))
config.substitutions.append(("%examples", os.path.join(config.nnc_src_root, "examples")))
# The source tree itself, for tests of the sources (test/Layering).
config.substitutions.append(("%{src_root}", config.nnc_src_root))

# test/Runtime compiles hand-written C models against the runtime library:
#   %rt_cc MODEL.c -DFLAGS %rt_link -o %t.exe
rt_lib = os.path.join(config.nnc_obj_root, "lib", "Runtime", "libnncRuntime.a")
config.substitutions.append(
    ("%rt_cc", "cc -O2 -I" + os.path.join(config.nnc_src_root, "include")))
config.substitutions.append(("%rt_link", rt_lib + " -lstdc++ -lpng -lz -lm"))
# Debian's dataset-fashion-mnist, for the tests that read the real data.
fashion = "/usr/share/datasets/fashion-mnist"
config.substitutions.append(("%fashion", fashion))
if os.path.exists(os.path.join(fashion, "t10k-images-idx3-ubyte.gz")):
    config.available_features.add("fashion-mnist")
# ONNX import tests build their models with Debian's python3-onnx (the
# system Python, whatever python3 is first on the PATH) and score against
# libonnx-testdata (test/onnx; installed by .ci/setup).
onnx_python = "/usr/bin/python3"
if subprocess.call([onnx_python, "-c", "import onnx"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("onnx")
config.substitutions.append(("%onnx_python", onnx_python))
# test/onnx/pytorch.test exports models with Debian's python3-torch.
if subprocess.call([onnx_python, "-c", "import torch, torch.onnx"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("torch")
if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
# Debian's headless Chromium renders the pictures of `EXE plot` in
# test/Runtime/plot-browser.test (installed by .ci/setup; see
# docs/runtime.md, "plot").
import shutil
if shutil.which("chromium"):
    config.available_features.add("chromium")
# Tests of a full or read-only file system mount a tiny tmpfs inside a
# private user and mount namespace (`unshare -rm`), where the system allows
# unprivileged namespaces.
import subprocess
import tempfile
with tempfile.TemporaryDirectory() as probe:
    try:
        if subprocess.call(["unshare", "-rm", "sh", "-c",
                            "mount -t tmpfs -o size=16k tmpfs '%s'" % probe],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) == 0:
            config.available_features.add("tmpfs-mount")
    except OSError:
        pass
# An AddressSanitizer build (.ci/sanitize) reserves terabytes of address
# space, so tests that cap it with `ulimit -v` say UNSUPPORTED: asan.
cache = os.path.join(config.nnc_obj_root, "CMakeCache.txt")
if os.path.exists(cache) and "NNC_SANITIZE:BOOL=ON" in open(cache).read():
    config.available_features.add("asan")
# Data-parallel training (test/Distributed, docs/distributed.md) runs under
# Open MPI's mpirun. As root (CI) it needs --allow-run-as-root; two ranks
# on a machine with fewer free cores need --oversubscribe; and since lit
# runs several jobs at once, ranks are not bound to cores and yield the
# CPU while they wait, so two jobs never spin against each other on one
# core. Without Open MPI's mpirun the tests are UNSUPPORTED.
mpirun = shutil.which("mpirun")
if mpirun:
    try:
        version = subprocess.run([mpirun, "--version"], capture_output=True,
                                 text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        version = ""
    if "Open MPI" in version:
        config.available_features.add("mpi")
        flags = (" --allow-run-as-root --oversubscribe --bind-to none"
                 " --mca mpi_yield_when_idle 1")
        # Under .ci/sanitize the ranks run without LeakSanitizer: Open MPI
        # does not free what it allocated at MPI_Finalize and unloads the
        # plugins that did, so those leaks can be neither named nor
        # suppressed. ASan's and UBSan's other checks stay on, and the
        # runtime's own leaks show in every other test.
        # mpirun's own environment too: `-x` reaches only the first app
        # context of an MPMD line (`-np 1 A : -np 1 B`), local ranks inherit.
        launcher = mpirun
        if "asan" in config.available_features:
            import shlex
            options = shlex.quote(
                os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
            flags += " -x ASAN_OPTIONS=" + options
            launcher = "env ASAN_OPTIONS=" + options + " " + mpirun
        config.substitutions.append(("%mpirun", launcher + flags))
        for var in ("HOME", "TMPDIR"):
            if var in os.environ:
                config.environment[var] = os.environ[var]

# lit configuration for nnc. Tests are .nn files (and .test scripts) with
# RUN: lines; %nnc is the compiler under test, %examples the examples/ folder.
import os
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

config.substitutions.append(("%nnc", os.path.join(config.nnc_tools_dir, "nnc")))
config.substitutions.append(("%examples", os.path.join(config.nnc_src_root, "examples")))

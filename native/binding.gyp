{
  "targets": [
    {
      "target_name": "alembic_torch",
      "sources": ["src/addon.cc", "src/distributed.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node ../scripts/libtorch-paths.cjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node ../scripts/libtorch-paths.cjs defines)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node ../scripts/libtorch-paths.cjs lib)",
        "-Wl,-rpath,<!(node ../scripts/libtorch-paths.cjs lib)",
        "-ltorch", "-ltorch_cpu", "-lc10"
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "GCC_ENABLE_CPP_RTTI": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      }
    }
  ]
}

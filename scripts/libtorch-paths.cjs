// Prints libtorch's include or library directories, or the build's extra defines, for binding.gyp.
// LIBTORCH may point at any libtorch install (a pip torch package's `torch/` directory or an unpacked
// libtorch zip: both have include/ and lib/). Without it, Debian's libtorch-dev layout is used.
// The distributed bindings (native/src/distributed.cc) need the Gloo headers, which pip torch does not
// ship and Debian has in libgloo-dev; `defines` turns them on only where those headers are found.
const fs = require('node:fs');
const path = require('node:path');

function dirs() {
  const root = process.env.LIBTORCH;
  if (root) {
    return {
      include: [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')],
      lib: path.join(root, 'lib'),
    };
  }
  const multiarch = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].find((d) =>
    fs.existsSync(path.join(d, 'libtorch.so')),
  );
  return {
    include: ['/usr/include', '/usr/include/torch/csrc/api/include'],
    lib: multiarch ?? '/usr/lib',
  };
}

/** The defines that switch on the Gloo process group when libtorch has its header and Gloo's are installed. */
function defines(d) {
  const has = (rel) => d.include.some((dir) => fs.existsSync(path.join(dir, rel)));
  const gloo = has('torch/csrc/distributed/c10d/ProcessGroupGloo.hpp') && has('gloo/context.h');
  return gloo ? ['USE_C10D_GLOO', 'ALEMBIC_WITH_GLOO'] : [];
}

const what = process.argv[2];
const d = dirs();
if (what === 'include') console.log(d.include.join(' '));
else if (what === 'lib') console.log(d.lib);
else if (what === 'defines') console.log(defines(d).join(' '));
else throw new Error('usage: libtorch-paths.cjs include|lib|defines');

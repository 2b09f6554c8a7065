// Prints libtorch's include or library directories, or the build's extra defines, for binding.gyp.
// LIBTORCH may point at any libtorch install (a pip torch package's `torch/` directory or an unpacked
// libtorch zip: both have include/ and lib/). Without it, Debian's libtorch-dev layout is used.
// The distributed bindings (native/src/distributed.cc) need the Gloo headers, which pip torch does not
// ship and Debian has in libgloo-dev; `defines` turns them on only where those headers are found.
// Debian's libtorch-dev also leaves out the distributed-autograd header c10d's reducer.hpp includes;
// `include` then adds native/shim, which declares the two names the reducer needs from it.
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

const has = (d, rel) => d.include.some((dir) => fs.existsSync(path.join(dir, rel)));

/** Whether libtorch has the Gloo process group's header and Gloo's own are installed. */
function withGloo(d) {
  return has(d, 'torch/csrc/distributed/c10d/ProcessGroupGloo.hpp') && has(d, 'gloo/context.h');
}

/** The defines that switch on the Gloo process group. */
function defines(d) {
  return withGloo(d) ? ['USE_C10D_GLOO', 'ALEMBIC_WITH_GLOO'] : [];
}

/** libtorch's include directories, and native/shim where the reducer's distributed-autograd header is missing. */
function includes(d) {
  const shim = path.join(__dirname, '..', 'native', 'shim');
  const missing = !has(d, 'torch/csrc/distributed/autograd/context/context.h');
  return withGloo(d) && missing ? [...d.include, shim] : d.include;
}

const what = process.argv[2];
const d = dirs();
if (what === 'include') console.log(includes(d).join(' '));
else if (what === 'lib') console.log(d.lib);
else if (what === 'defines') console.log(defines(d).join(' '));
else throw new Error('usage: libtorch-paths.cjs include|lib|defines');

// Prints libtorch's include or library directories for binding.gyp.
// LIBTORCH may point at any libtorch install (a pip torch package's `torch/` directory or an unpacked
// libtorch zip: both have include/ and lib/). Without it, Debian's libtorch-dev layout is used.
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

const what = process.argv[2];
const d = dirs();
if (what === 'include') console.log(d.include.join(' '));
else if (what === 'lib') console.log(d.lib);
else throw new Error('usage: libtorch-paths.cjs include|lib');

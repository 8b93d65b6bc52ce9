// Whether an npm test peer can run here: node itself and its module in
// tests/peers/node_modules (installed by .ci/install-deps or `npm ci`).
#pragma once

#include <unistd.h>

#include <string>

namespace horde::test {

// Why `module` cannot be used by a Node peer; empty when it can.
inline std::string node_module_missing(const std::string& source_dir, const std::string& module) {
  if (access("/usr/bin/node", X_OK) != 0) return "node is not installed (/usr/bin/node)";
  const std::string manifest = source_dir + "/tests/peers/node_modules/" + module + "/package.json";
  if (access(manifest.c_str(), R_OK) != 0)
    return module + " is not in tests/peers/node_modules: (cd tests/peers && npm ci)";
  return {};
}

}  // namespace horde::test

// The arch registry: the one place that knows every arch variant by name. Front ends list and
// create pmaps through it and never test an arch name themselves.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/pmap.h"

namespace kva {

struct ArchInfo {
  std::string name;         // "amd64", "i386", "i386-pae", "ref", ...
  std::string description;  // one line: paging format, direct map or not, shootdown protocol
  bool emulated;            // false for the pure-software reference pmap
  bool in_default_set;      // run when a testcase or the CLI names no arch
  std::function<std::unique_ptr<Pmap>(const MachineConfig&)> create;
  // What create() would return's capabilities(), without building a machine (job planning).
  std::function<PmapCapabilities()> capabilities;
};

const std::vector<ArchInfo>& arch_registry();
const ArchInfo* find_arch(std::string_view name);  // nullptr when unknown

}  // namespace kva

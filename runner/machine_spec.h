// The buffer-cache and device parts of `machine:` (machine.buf, machine.device), and how a
// MachineSpec becomes the Kernel's configuration.
#pragma once
#include "core/kernel.h"
#include "runner/testcase.h"
#include "runner/yaml_fields.h"

namespace kva::runner {

BufSpec parse_buf_spec(const YamlReader& r, const YAML::Node& n, int cpus);
DeviceSpec parse_device_spec(const YamlReader& r, const YAML::Node& n, int cpus);
// nsfbufs, buffer cache and device of the spec, on top of `cfg`.
void apply_machine_spec(const MachineSpec& m, KernelConfig& cfg);

}  // namespace kva::runner

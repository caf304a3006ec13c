#include "runner/machine_spec.h"

namespace kva::runner {

BufSpec parse_buf_spec(const YamlReader& r, const YAML::Node& n, int cpus) {
  Fields f(r, n, "machine.buf");
  BufSpec b;
  auto space = [&](const char* key, std::uint64_t& out) {
    if (!f.has(key)) return;
    YAML::Node v = f.get(key);
    out = r.size(v, std::string("machine.buf.") + key, 256u << 20);
    if (out % PAGE_SIZE) throw r.error(v, std::string("machine.buf.") + key + ": must be a multiple of 4K");
  };
  if (f.has("nbuf")) b.nbuf = static_cast<int>(r.integer(f.get("nbuf"), "machine.buf.nbuf", 1, 4096));
  space("maxbufspace", b.maxbufspace);
  space("hibufspace", b.hibufspace);
  space("lobufspace", b.lobufspace);
  if (f.has("hidirtybuffers"))
    b.hidirtybuffers = static_cast<int>(r.integer(f.get("hidirtybuffers"), "machine.buf.hidirtybuffers", 1, 4096));
  if (f.has("lodirtybuffers"))
    b.lodirtybuffers = static_cast<int>(r.integer(f.get("lodirtybuffers"), "machine.buf.lodirtybuffers", 0, 4096));
  if (f.has("unmapped")) b.unmapped = r.boolean(f.get("unmapped"), "machine.buf.unmapped");
  if (f.has("check_invariants"))
    b.check_invariants = r.boolean(f.get("check_invariants"), "machine.buf.check_invariants");
  if (f.has("daemon_cpu"))
    b.daemon_cpu = static_cast<int>(r.integer(f.get("daemon_cpu"), "machine.buf.daemon_cpu", 0, cpus - 1));
  f.finish();
  return b;
}

DeviceSpec parse_device_spec(const YamlReader& r, const YAML::Node& n, int cpus) {
  Fields f(r, n, "machine.device");
  DeviceSpec d;
  if (f.has("size")) {
    YAML::Node v = f.get("size");
    d.size = r.size(v, "machine.device.size", 1u << 30);
    if (d.size == 0 || d.size % DEV_BSIZE) throw r.error(v, "machine.device.size: must be a positive multiple of 512");
  }
  if (f.has("completion")) {
    YAML::Node v = f.get("completion");
    const std::string s = r.str(v, "machine.device.completion");
    if (s == "next" || s == "issuer" || s == "seeded") {
      d.completion = s;
    } else {
      d.completion = "fixed";
      d.completion_cpu = static_cast<int>(r.integer(v, "machine.device.completion (next, issuer, seeded or a cpu)", 0, cpus - 1));
    }
  }
  if (f.has("pio")) d.pio = r.boolean(f.get("pio"), "machine.device.pio");
  f.finish();
  return d;
}

void apply_machine_spec(const MachineSpec& m, KernelConfig& cfg) {
  cfg.nsfbufs = m.nsfbufs;
  cfg.buf.nbuf = m.buf.nbuf;
  cfg.buf.maxbufspace = m.buf.maxbufspace;
  cfg.buf.hibufspace = m.buf.hibufspace;
  cfg.buf.lobufspace = m.buf.lobufspace;
  cfg.buf.hidirtybuffers = m.buf.hidirtybuffers;
  cfg.buf.lodirtybuffers = m.buf.lodirtybuffers;
  cfg.buf.unmapped = m.buf.unmapped;
  cfg.buf.check_invariants = m.buf.check_invariants;
  cfg.buf.daemon_cpu = m.buf.daemon_cpu;
  cfg.device.size = m.device.size;
  cfg.device.pio = m.device.pio;
  cfg.device.completion_cpu = m.device.completion_cpu;
  cfg.device.completion = m.device.completion == "issuer" ? CompletionCpu::Issuer
                          : m.device.completion == "seeded" ? CompletionCpu::Seeded
                          : m.device.completion == "fixed"  ? CompletionCpu::Fixed
                                                            : CompletionCpu::Next;
}

}  // namespace kva::runner

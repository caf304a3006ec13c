// The op sequences of the differential fuzzer: a table of op families, each decoding bytes
// into ops that are *correct* uses of the kernel interfaces (so any stale access or any
// difference from the reference MMU is a bug), and each op applying to any World by handle.
//
// Decoders consult the reference world (handle states) and a protocol model (which CPUs may
// still cache an outdated translation of each reserved page) and repair what would be misuse:
// an access by a CPU that may hold a stale translation is preceded by its invalidation. A new
// subsystem (the buffer cache, files) adds a family: a *_ops() function and one table line.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/cpuset.h"
#include "tests/fuzz/opseq/byte_source.h"
#include "tests/fuzz/opseq/file_model.h"
#include "tests/fuzz/opseq/world.h"

namespace kva::fuzz {

// What one op did on one world, in arch-independent terms; worlds are compared on it.
struct Outcome {
  Outcome() = default;
  explicit Outcome(std::string w) : what(std::move(w)) {}
  std::string what = "ok";          // "ok", "page fault", "error: ...", an sf_buf, ...
  std::vector<std::uint8_t> bytes;  // what a read returned
  bool error = false;               // a KvaError other than a page fault: misuse, never expected
  bool operator==(const Outcome& o) const { return what == o.what && bytes == o.bytes; }
};

struct Op {
  Op(std::string t, std::function<Outcome(World&)> a) : text(std::move(t)), apply(std::move(a)) {}
  std::string text;  // for reports: "read cpu1 sf#2+100 len 16"
  std::function<Outcome(World&)> apply;
  // What the decoder's own logical model predicts (file ops): the outcome's text and bytes.
  std::optional<std::string> expect_what;
  std::optional<std::vector<std::uint8_t>> expect_bytes;
};

// Decoder state: the reference world and what a correct caller knows.
struct Model {
  explicit Model(World& reference);
  World& ref;
  int ncpus;
  // Per reservation, per page: CPUs whose TLB may hold an outdated translation (an access
  // from them must invalidate first), the page handle its PTE maps (-1: none), and whether its
  // accessed flag was cleared since the last access (where that flag faults, the access first
  // takes the fault pmap_fault resolves).
  struct KvaPage {
    CpuSet stale;
    int page = -1;
    bool accessed_cleared = false;
  };
  std::vector<std::vector<KvaPage>> kva;
  std::vector<int> pte_refs;  // page handle -> reservation PTEs mapping it
  static constexpr int max_pages = 24, max_reservations = 6, max_reservation_pages = 4;

  // Files: their logical contents (file handle -> model), and per getblk/bread handle what its
  // holder did to the buffer: filled it whole (so its contents are valid without B_CACHE) or
  // changed it (then only a write may release it: brelse would lose the change).
  std::vector<FileModel> files;
  struct BufNote {
    bool filled = false, modified = false;
  };
  std::vector<BufNote> bufs;
  static constexpr int max_files = 3, max_buf_handles = 128;
  static constexpr std::uint64_t max_file_size = 64u << 10;

  // Handles in a given state, for decoders to choose from.
  std::vector<int> live_pages() const;
  std::vector<int> idle_threads() const;
  std::vector<int> live_sfs() const;
  bool page_in_use(int page) const;  // by an sf_buf (live or pending) or a reservation PTE
  int thread_cpu(int thread) const { return thread % ncpus; }
  // Buffer and file rules of a correct caller.
  int held_by(int thread) const;         // the buffer handle td holds or waits for, -1: none
  std::vector<int> free_threads() const; // idle and holding no buffer
  bool file_busy(int file) const;        // a buffer of it is held or waited for
  bool any_file_busy() const;
  // An sf_buf is free for a file op's page loop and nothing waits for one (else that waiter
  // would take it and the file op would sleep).
  bool sf_buf_available() const;
  std::vector<int> live_bufs() const;    // held buffers whose holder is idle
  bool buf_valid(int handle) const {
    return ref.bufs_held[static_cast<std::size_t>(handle)].cache || bufs[static_cast<std::size_t>(handle)].filled;
  }
};

struct OpDef {
  const char* name;
  // Appends zero or more ops (a repair may come first); appends nothing when the op has no
  // valid form now (e.g. no live sf_buf to free).
  std::function<void(ByteSource&, Model&, std::vector<Op>&)> decode;
};

std::vector<OpDef> page_ops();
std::vector<OpDef> sf_buf_ops();
std::vector<OpDef> pmap_ops();
std::vector<OpDef> access_ops();
std::vector<OpDef> buf_ops();
std::vector<OpDef> file_ops();
const std::vector<OpDef>& op_table();  // every family's ops, in a fixed order
// The end of every sequence: ops that release the buffers still held (appended to `out`,
// nothing once none is held or waited for), then verify_files_op().
void release_held_buffers(Model& m, std::vector<Op>& out);
// sync, then every file's device contents must equal the decoder's model.
Op verify_files_op(const Model& m);

// Shared by decoders: invalidations an access by `cpu` to reserved pages [first, first+n)
// needs first, appended to `out` (and the model updated).
// One of `from` chosen by the next byte; -1 when `from` is empty.
int pick(ByteSource& src, const std::vector<int>& from);
// Page contents and written data: a function of a seed and the page offset.
std::vector<std::uint8_t> pattern(std::uint8_t seed, std::size_t offset, std::size_t len);
void repair_stale(Model& m, int cpu, int kva, int first, int n, std::vector<Op>& out);
// Where an access through a leaf whose accessed flag is clear faults
// (capabilities().accessed_flag_faults), FreeBSD's pmap_fault sets the flag and the access is
// retried: appended to `out` for pages [first, first+n) the model saw cleared. Elsewhere the
// hardware walk sets the flag, and the op does nothing.
void repair_accessed(Model& m, int kva, int first, int n, std::vector<Op>& out);
std::string hex(std::uint64_t v);

}  // namespace kva::fuzz

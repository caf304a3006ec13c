#include "runner/parallel.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "runner/result_codec.h"

namespace kva::runner {
namespace {

// Frame: "<job index> <byte count>\n" then the encoded result.
bool write_all(int fd, const std::string& s) {
  const char* p = s.data();
  std::size_t left = s.size();
  while (left) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

[[noreturn]] void worker(const std::vector<Job>& jobs, const JobOptions& opts, int w, int n, int fd) {
  for (std::size_t i = w; i < jobs.size(); i += n) {
    std::string body = encode_result(run_job(jobs[i], opts));
    if (!write_all(fd, std::to_string(i) + " " + std::to_string(body.size()) + "\n" + body)) _exit(3);
  }
  ::close(fd);
  _exit(0);
}

struct Worker {
  pid_t pid;
  int fd;
  std::string buf;
  bool open = true;
};

// Extracts complete frames from w.buf; returns the job indices received.
std::vector<std::size_t> take_frames(Worker& w, std::map<std::size_t, JobResult>& got) {
  std::vector<std::size_t> taken;
  for (;;) {
    auto nl = w.buf.find('\n');
    if (nl == std::string::npos) return taken;
    std::size_t index = 0, len = 0;
    if (std::sscanf(w.buf.c_str(), "%zu %zu", &index, &len) != 2) {
      w.buf.clear();
      return taken;
    }
    if (w.buf.size() < nl + 1 + len) return taken;
    got[index] = decode_result(w.buf.substr(nl + 1, len));
    taken.push_back(index);
    w.buf.erase(0, nl + 1 + len);
  }
}

JobResult lost_result(const Job& job, const std::string& why) {
  JobResult r;
  r.testcase = job.testcase->name;
  r.file = job.testcase->file;
  r.arch = job.arch->name;
  r.seed = job.seed;
  r.failures.push_back({"", kWorkerCrashed, why, std::nullopt, std::nullopt, "", ""});
  return r;
}

}  // namespace

std::vector<JobResult> run_jobs(const std::vector<Job>& jobs, const JobOptions& opts, int nprocs,
                                const ProgressFn& progress) {
  std::vector<JobResult> results;
  if (nprocs <= 1 || jobs.size() <= 1) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      results.push_back(run_job(jobs[i], opts));
      if (progress) progress(results.back(), i + 1, jobs.size());
    }
    return results;
  }
  int n = static_cast<int>(std::min<std::size_t>(nprocs, jobs.size()));
  // Workers keep each job's -v / --trace output; it is printed here in job order.
  JobOptions worker_opts = opts;
  worker_opts.keep_output = true;
  std::size_t next_output = 0;
  std::cerr.flush();
  std::fflush(nullptr);
  std::vector<Worker> workers;
  for (int w = 0; w < n; ++w) {
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::close(p[0]);
      for (const auto& o : workers) ::close(o.fd);
      worker(jobs, worker_opts, w, n, p[1]);
    }
    ::close(p[1]);
    workers.push_back({pid, p[0], "", true});
  }
  std::map<std::size_t, JobResult> got;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Worker*> who;
    for (auto& w : workers)
      if (w.open) { fds.push_back({w.fd, POLLIN, 0}); who.push_back(&w); }
    if (fds.empty()) break;
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("poll failed");
    }
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      ssize_t r = ::read(fds[k].fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { ::close(fds[k].fd); who[k]->open = false; continue; }
      who[k]->buf.append(chunk, static_cast<std::size_t>(r));
      for (std::size_t index : take_frames(*who[k], got))
        if (progress) progress(got[index], got.size(), jobs.size());
      for (auto it = got.find(next_output); it != got.end(); it = got.find(++next_output)) {
        std::cerr << it->second.output;
        it->second.output.clear();
      }
    }
  }
  std::vector<std::string> how(workers.size());  // how each worker ended, if abnormally
  for (std::size_t w = 0; w < workers.size(); ++w) {
    int status = 0;
    ::waitpid(workers[w].pid, &status, 0);
    if (WIFSIGNALED(status)) how[w] = " (killed by signal " + std::to_string(WTERMSIG(status)) + ")";
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      how[w] = " (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
  }
  for (std::size_t i = next_output; i < jobs.size(); ++i)  // after a job lost with its worker
    if (auto it = got.find(i); it != got.end()) std::cerr << it->second.output;
  std::cerr.flush();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto it = got.find(i);
    results.push_back(it != got.end() ? std::move(it->second)
                                      : lost_result(jobs[i], "the worker process running it exited early" +
                                                                 how[i % workers.size()]));
  }
  return results;
}

}  // namespace kva::runner

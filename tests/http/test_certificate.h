// Test support for TLS: a throw-away self-signed certificate made with the `openssl` command, and
// a way to run commands (openssl s_client, curl) and read what they print. Header-only; used by
// tests/http and tests/integration.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace vesta::testing {

struct CommandResult {
  int exit_code = -1;  // -1: did not run or was killed by a signal
  std::string output;  // stdout and stderr, in order
};

// Runs `command` with /bin/sh, stdin from /dev/null, stderr into the output.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = popen(("( " + command + " ) </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

inline bool HaveCommand(const std::string& name) {
  return RunCommand("command -v " + name).exit_code == 0;
}

// A self-signed P-256 certificate for CN=localhost and IP 127.0.0.1, made in `dir`: cert.pem and
// key.pem, and other_key.pem, a key that belongs to no certificate. False when openssl failed.
struct TestCertificate {
  std::string cert;
  std::string key;
  std::string other_key;

  bool Make(const std::string& dir) {
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    other_key = dir + "/other_key.pem";
    return RunCommand(
               "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
               "-days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
               "-keyout '" +
               key + "' -out '" + cert + "'")
                   .exit_code == 0 &&
           RunCommand("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '" +
                      other_key + "'")
                   .exit_code == 0;
  }
};

}  // namespace vesta::testing

#!/usr/bin/env bash
# System packages the tests use that PyPI cannot provide: LibreOffice (headless), which
# opens every exported questionnaire to prove Office applications accept it, and Chromium,
# the real browser the review UI is tested in (Playwright drives it; its own browser
# download cannot work without the network), Prometheus, whose promtool checks and
# unit-tests the alert rules and checks deploy/prometheus/prometheus.yml, and Alertmanager,
# whose amtool checks deploy/alertmanager/alertmanager.yml, and the blackbox exporter, which
# probes /readyz in the dashboards' real-Prometheus test.
# Installs them from Debian's packages when they are missing; a no-op when present.
set -euo pipefail

missing=()
command -v libreoffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui libreoffice-writer-nogui)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v prometheus-blackbox-exporter >/dev/null 2>&1 || missing+=(prometheus-blackbox-exporter)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing ${missing[*]}; install them with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

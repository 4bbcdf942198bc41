#!/usr/bin/env bash
# Installs what ecs-secrets needs on a fresh Debian machine, and nothing that is already there:
#   - PostgreSQL and MariaDB server packages (the harness starts private instances; the
#     packages' own system services are kept from starting),
#   - util-linux and iproute2 (loopback-only network namespace for the test run),
#   - moto, AWS SAM CLI, cfn-lint, cargo-lambda and detect-secrets (the benchmark comparator), pinned, in a project venv (.tools/venv),
#   - checkov, pinned, in a venv of its own (.tools/checkov),
#   - cargo-nextest, if the machine lacks it.
# Safe to run again: each step checks first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

have_pg() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; }
have_mariadb() { { [ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null; } && { [ -x /usr/bin/mariadb-install-db ] || command -v mariadb-install-db >/dev/null; }; }

packages=()
have_pg || packages+=(postgresql)
have_mariadb || packages+=(mariadb-server)
command -v unshare >/dev/null || packages+=(util-linux)
command -v openssl >/dev/null || packages+=(openssl)
{ command -v ip >/dev/null || [ -x /usr/sbin/ip ]; } || packages+=(iproute2)

if [ ${#packages[@]} -gt 0 ]; then
    say "installing Debian packages: ${packages[*]}"
    # Keep the packages' system services (PostgreSQL on 5432, MariaDB on 3306) from starting:
    # the harness runs its own instances on free ports.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    if [ "$created_policy" -eq 1 ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

requirements="$root/scripts/requirements-tools.txt"
stamp="$venv/.requirements"
if [ ! -f "$stamp" ] || ! cmp -s "$requirements" "$stamp"; then
    say "installing Python tools into .tools/venv (moto, SAM CLI, cfn-lint, cargo-lambda, detect-secrets)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi

checkov_requirements="$root/scripts/requirements-checkov.txt"
checkov_venv="$root/.tools/checkov"
if [ ! -f "$checkov_venv/.requirements" ] || ! cmp -s "$checkov_requirements" "$checkov_venv/.requirements"; then
    say "installing checkov into .tools/checkov (the template's security scan)"
    python3 -m venv "$checkov_venv"
    "$checkov_venv/bin/pip" install --quiet --disable-pip-version-check -r "$checkov_requirements"
    cp "$checkov_requirements" "$checkov_venv/.requirements"
fi

if ! cargo nextest --version >/dev/null 2>&1; then
    say "installing cargo-nextest"
    cargo install --locked cargo-nextest
fi

say "ready"

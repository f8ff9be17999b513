<?php

declare(strict_types=1);

namespace PulsarTest\Support;

/**
 * A child process whose output goes to temporary files (no pipe can fill up and block it), with bounded waits
 * and a kill on destruction, so that no test leaves a process behind or waits forever.
 */
final class Child
{
    private const SIGKILL = 9;
    private const SIGTERM = 15;

    /** @var resource */
    private $process;
    private string $stdoutFile;
    private string $stderrFile;
    private ?array $exit = null;
    /** @var list<string> */
    private array $command;

    /**
     * @param list<string> $command
     * @param array<string,string>|null $env extra environment variables (added to this process's)
     */
    public static function start(array $command, ?array $env = null): self
    {
        return new self($command, $env);
    }

    /** @param list<string> $command */
    private function __construct(array $command, ?array $env)
    {
        $this->command = $command;
        $this->stdoutFile = (string) tempnam(sys_get_temp_dir(), 'pulsar-out-');
        $this->stderrFile = (string) tempnam(sys_get_temp_dir(), 'pulsar-err-');
        $environment = null;
        if ($env !== null) {
            $environment = array_merge(getenv(), $env);
        }
        $process = proc_open(
            $command,
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->stdoutFile, 'w'], 2 => ['file', $this->stderrFile, 'w']],
            $pipes,
            null,
            $environment
        );
        if (!is_resource($process)) {
            throw new \RuntimeException('cannot start ' . implode(' ', $command));
        }
        $this->process = $process;
    }

    public function stdout(): string
    {
        return (string) file_get_contents($this->stdoutFile);
    }

    public function stderr(): string
    {
        return (string) file_get_contents($this->stderrFile);
    }

    /** Everything the child printed, for assertion messages. */
    public function describe(): string
    {
        return implode(' ', $this->command) . "\n--- stdout ---\n" . $this->stdout() . "\n--- stderr ---\n" . $this->stderr();
    }

    /** Waits until STDOUT contains $needle; false if the child exited or the time ran out first. */
    public function waitForOutput(string $needle, float $timeoutSeconds): bool
    {
        return $this->waitFor($this->stdout(...), $needle, $timeoutSeconds);
    }

    /** Waits until STDERR contains $needle; false if the child exited or the time ran out first. */
    public function waitForError(string $needle, float $timeoutSeconds): bool
    {
        return $this->waitFor($this->stderr(...), $needle, $timeoutSeconds);
    }

    private function waitFor(callable $read, string $needle, float $timeoutSeconds): bool
    {
        $deadline = microtime(true) + $timeoutSeconds;
        do {
            if (str_contains($read(), $needle)) {
                return true;
            }
            if (!$this->isRunning()) {
                return str_contains($read(), $needle);
            }
            usleep(20_000);
        } while (microtime(true) < $deadline);
        return false;
    }

    public function isRunning(): bool
    {
        return $this->status()['running'];
    }

    public function pid(): int
    {
        return (int) proc_get_status($this->process)['pid'];
    }

    public function terminate(): void
    {
        $this->signal(self::SIGTERM);
    }

    public function signal(int $signal): void
    {
        if ($this->isRunning()) {
            proc_terminate($this->process, $signal);
        }
    }

    /**
     * Waits for the exit: ['code' => int|null, 'signal' => int|null], or null if it is still running after
     * $timeoutSeconds.
     */
    public function wait(float $timeoutSeconds): ?array
    {
        $deadline = microtime(true) + $timeoutSeconds;
        while ($this->isRunning()) {
            if (microtime(true) >= $deadline) {
                return null;
            }
            usleep(20_000);
        }
        return $this->exit;
    }

    /** @return array{running:bool} */
    private function status(): array
    {
        if ($this->exit !== null) {
            return ['running' => false];
        }
        $status = proc_get_status($this->process);
        if ($status['running']) {
            return ['running' => true];
        }
        // proc_get_status reports the exit code only once: keep it.
        $this->exit = [
            'code' => $status['signaled'] ? null : $status['exitcode'],
            'signal' => $status['signaled'] ? $status['termsig'] : null,
        ];
        return ['running' => false];
    }

    public function __destruct()
    {
        if ($this->isRunning()) {
            proc_terminate($this->process, self::SIGKILL);
            $this->wait(5.0);
        }
        proc_close($this->process);
        @unlink($this->stdoutFile);
        @unlink($this->stderrFile);
    }
}

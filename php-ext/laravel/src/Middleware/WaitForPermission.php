<?php

declare(strict_types=1);

namespace PublisherPulsar\Laravel\Middleware;

use Illuminate\Http\Client\RequestException;
use Illuminate\Support\Facades\Log;
use PublisherPulsar\Laravel\Exceptions\PauseFor;
use PublisherPulsar\Laravel\Exceptions\SlowDown;
use React\PublisherPulsar\Inventory\ActionResultingPushDto;
use React\PublisherPulsar\Inventory\ErrorSleepForPeriod;
use React\PublisherPulsar\Inventory\Exceptions\PublisherPulsarException;
use React\PublisherPulsar\Inventory\PerformerDto;
use React\PublisherPulsar\Inventory\PerformerSocketsParamsDto;
use React\PublisherPulsar\Performer;

/**
 * Job middleware: `public function middleware() { return [new WaitForPermission]; }`.
 *
 * Before the job runs, the worker waits for the Pulsar's permission (config/pulsar.php's addresses, timeouts and
 * the daemon's CURVE public key, if any); then the job runs and its outcome is reported once:
 *  - it returned: success (no correction);
 *  - it threw SlowDown, or an HTTP 429 RequestException without a usable Retry-After: a rate-limit error (the
 *    daemon shrinks its pulses), and the job is released back to the queue (slow_down_release_delay);
 *  - it threw PauseFor($seconds), or a 429 with Retry-After (seconds or an HTTP date): a pause for that period,
 *    and the job is released with that delay;
 *  - any other exception: success as far as the rate goes (the call was made), and the exception propagates, so
 *    Laravel retries or fails the job as usual.
 * If the daemon cannot be reached within the timeouts, the job does not run and is released after
 * unreachable_release_delay seconds.
 *
 * One Performer (with its sockets) is kept per worker process and reused for every job.
 */
class WaitForPermission
{
    /** @var array<string,Performer> one per configuration, per process */
    private static array $performers = [];

    /**
     * @param object $job the queued job (uses InteractsWithQueue: release())
     * @param callable $next
     * @return mixed
     */
    public function handle($job, $next)
    {
        $config = (array) config('pulsar', []);
        [$key, $performer] = $this->performer($config);
        try {
            $performer->connectToPulsarAndWaitPermissionToAct();
        } catch (PublisherPulsarException $e) {
            unset(self::$performers[$key]);
            $delay = (int) ceil((float) ($config['unreachable_release_delay'] ?? 5));
            Log::warning('pulsar: no permission, job released', ['job' => get_class($job), 'error' => $e->getMessage(), 'delay' => $delay]);
            $this->release($job, $delay);
            return null;
        }

        try {
            $result = $next($job);
        } catch (SlowDown $e) {
            $this->reportSlowDown($performer, $e->getMessage(), $e->reason);
            $this->release($job, (int) ceil((float) ($config['slow_down_release_delay'] ?? 0)));
            return null;
        } catch (PauseFor $e) {
            $this->reportPause($performer, $e->seconds, $e->getMessage(), $e->reason);
            $this->release($job, (int) ceil($e->seconds));
            return null;
        } catch (RequestException $e) {
            if ($e->response->status() !== 429) {
                $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
                throw $e;
            }
            $pause = self::retryAfterSeconds($e->response->header('Retry-After'), time());
            if ($pause === null) {
                $this->reportSlowDown($performer, 'HTTP 429 Too Many Requests', 'HTTP_429');
                $this->release($job, (int) ceil((float) ($config['slow_down_release_delay'] ?? 0)));
            } else {
                $this->reportPause($performer, $pause, 'HTTP 429 Too Many Requests, Retry-After ' . $pause . ' s', 'HTTP_429_RETRY_AFTER');
                $this->release($job, (int) ceil($pause));
            }
            return null;
        } catch (\Throwable $e) {
            $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();
            throw $e;
        }
        $performer->pushActionResultInfoWithoutPulsarCorrectionBehavior();

        return $result;
    }

    /**
     * Seconds from now that a Retry-After header value asks for: delta-seconds or an HTTP date; null when absent,
     * unparsable, or not in the future.
     */
    public static function retryAfterSeconds(?string $value, int $now): ?float
    {
        $value = trim((string) $value);
        if ($value === '') {
            return null;
        }
        if (ctype_digit($value)) {
            $seconds = (float) $value;
            return $seconds > 0 ? $seconds : null;
        }
        $date = \DateTimeImmutable::createFromFormat('D, d M Y H:i:s \G\M\T', $value, new \DateTimeZone('UTC'));
        if ($date === false) {
            return null;
        }
        $seconds = (float) ($date->getTimestamp() - $now);
        return $seconds > 0 ? $seconds : null;
    }

    private function reportSlowDown(Performer $performer, string $message, string $reason): void
    {
        $result = new ActionResultingPushDto();
        $result->setActionCompleteCorrectly(false);
        $result->setSlowDown(true);
        $result->setErrorMessage($message);
        $result->setErrorReason($reason);
        $performer->pushActionResultInfo($result);
    }

    private function reportPause(Performer $performer, float $seconds, string $message, string $reason): void
    {
        $sleep = new ErrorSleepForPeriod();
        $sleep->setSleepPeriod((int) round($seconds * 1_000_000));
        $result = new ActionResultingPushDto();
        $result->setActionCompleteCorrectly(false);
        $result->setSleepForPeriod($sleep);
        $result->setErrorMessage($message);
        $result->setErrorReason($reason);
        $performer->pushActionResultInfo($result);
    }

    private function release(object $job, int $delay): void
    {
        if (!method_exists($job, 'release')) {
            throw new \LogicException(get_class($job) . ' must use InteractsWithQueue for WaitForPermission to release it');
        }
        $job->release(max(0, $delay));
    }

    /**
     * @param array<string,mixed> $config
     * @return array{0:string,1:Performer}
     */
    private function performer(array $config): array
    {
        $key = json_encode([
            $config['publish_address'] ?? null, $config['pull_address'] ?? null, $config['reply_stack_address'] ?? null,
            $config['admission_timeout'] ?? null, $config['pulse_timeout'] ?? null, $config['send_timeout'] ?? null,
            $config['curve_server_key'] ?? null,
        ]);
        if (!isset(self::$performers[$key])) {
            $dto = new PerformerDto();
            $dto->setModuleName((string) ($config['module_name'] ?? 'pulsar') . ':worker');
            $channel = $config['log_channel'] ?? null;
            $dto->setLogger(($channel === null || $channel === '') ? Log::getLogger() : Log::channel($channel)->getLogger());
            $sockets = new PerformerSocketsParamsDto();
            $sockets->setPublisherPulsarSocketAddress((string) $config['publish_address']);
            $sockets->setPushPulsarSocketAddress((string) $config['pull_address']);
            $sockets->setRequestPulsarRsSocketAddress((string) $config['reply_stack_address']);
            // Unset or empty: no CURVE, as the original. A malformed key fails the wait with INVALID_SETTING.
            $curveServerKey = (string) ($config['curve_server_key'] ?? '');
            if ($curveServerKey !== '') {
                $sockets->setCurveServerKey($curveServerKey);
            }
            $dto->setSocketsParams($sockets);
            $dto->setAdmissionTimeout($config['admission_timeout'] ?? 60);
            $dto->setPulseTimeout($config['pulse_timeout'] ?? 30);
            $dto->setSendTimeout($config['send_timeout'] ?? 5);
            self::$performers[$key] = new Performer($dto);
        }

        return [$key, self::$performers[$key]];
    }
}

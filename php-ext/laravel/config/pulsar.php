<?php

declare(strict_types=1);

/*
 * Publisher Pulsar for Laravel (publish with `php artisan vendor:publish --tag=pulsar-config`). Every value comes
 * from the environment variable named beside it. The daemon (`php artisan pulsar:serve`) and the queue workers
 * (the WaitForPermission job middleware) must agree on the three addresses.
 */

$number = static function (string $name, $default) {
    $value = env($name);
    // `+ 0` is PHP's numeric-string conversion ("10" → 10, "0.5" → 0.5; anything else is a TypeError), not math.
    // @mago-expect lint:no-redundant-math
    return $value === null || $value === '' ? $default : $value + 0;
};

return [
    // Log records' module name.
    'module_name' => env('PULSAR_MODULE_NAME', 'pulsar'),

    // The daemon: at most this many permissions per pulse (N, adapted downwards on slow-downs) ...
    'subscribers_per_iteration' => $number('PULSAR_SUBSCRIBERS_PER_ITERATION', 10),
    // ... and pulses at least this many seconds apart (fractions allowed).
    'pulsation_iteration_period' => $number('PULSAR_PULSATION_ITERATION_PERIOD', 1),
    // Seconds the daemon waits for the released jobs' results (at least 7, as the original).
    'performer_container_action_max_execution_time' => $number('PULSAR_PERFORMER_CONTAINER_ACTION_MAX_EXECUTION_TIME', 7),
    // Optional daemon settings (null: the library's default).
    'max_wait_reply_stack_result' => $number('PULSAR_MAX_WAIT_REPLY_STACK_RESULT', null),
    'max_wait_all_subscribers_ready_before_publish' => $number('PULSAR_MAX_WAIT_ALL_SUBSCRIBERS_READY_BEFORE_PUBLISH', null),
    'max_admission_queue' => $number('PULSAR_MAX_ADMISSION_QUEUE', null),
    // The drop-in's own daemon settings (null or empty: the library's default; the README's settings table says
    // what each does): the concurrency bound (0: N), the guard added between pulses, the longest pause ...
    'max_acting_performers' => $number('PULSAR_MAX_ACTING_PERFORMERS', null),
    'pulse_guard_interval' => $number('PULSAR_PULSE_GUARD_INTERVAL', null),
    'max_pause_for_period' => $number('PULSAR_MAX_PAUSE_FOR_PERIOD', null),
    // ... who may connect (networks or addresses between commas, e.g. "10.0.0.0/8,192.168.1.7"), how many at once,
    'allow_from' => env('PULSAR_ALLOW_FROM'),
    'max_connections' => $number('PULSAR_MAX_CONNECTIONS', null),
    // ... the daemon's CURVE secret key (Z85; its public key, logged at start, goes to curve_server_key below) ...
    'curve_secret_key' => env('PULSAR_CURVE_SECRET_KEY'),
    // ... and the file it keeps for the next daemon on the same addresses (default: one in the temporary folder).
    'state_file' => env('PULSAR_STATE_FILE'),

    // Addresses: the daemon binds them, workers connect to them.
    'publish_address' => env('PULSAR_PUBLISH_ADDRESS', 'tcp://127.0.0.1:6273'),
    'pull_address' => env('PULSAR_PULL_ADDRESS', 'tcp://127.0.0.1:6274'),
    'reply_stack_address' => env('PULSAR_REPLY_STACK_ADDRESS', 'tcp://127.0.0.1:6275'),
    // The CURVE public key (Z85) of the daemon's curve_secret_key (pulsar:serve's or a pulsard's); workers then
    // connect over CURVE. Null or empty: no CURVE.
    'curve_server_key' => env('PULSAR_CURVE_SERVER_KEY'),

    // Worker waits, in seconds (see php-ext/laravel/README.md for sizing them against queue:work --timeout and
    // the queue connection's retry_after).
    'admission_timeout' => $number('PULSAR_ADMISSION_TIMEOUT', 60),
    'pulse_timeout' => $number('PULSAR_PULSE_TIMEOUT', 30),
    'send_timeout' => $number('PULSAR_SEND_TIMEOUT', 5),

    // Seconds before a job released by WaitForPermission is available again: after a SlowDown (or a 429 without
    // Retry-After), and when the daemon could not be reached.
    'slow_down_release_delay' => $number('PULSAR_SLOW_DOWN_RELEASE_DELAY', 0),
    'unreachable_release_delay' => $number('PULSAR_UNREACHABLE_RELEASE_DELAY', 5),

    // Log channel for the daemon's and the workers' records (null: the default channel).
    'log_channel' => env('PULSAR_LOG_CHANNEL'),

    // pulsar:serve rewrites this JSON file after every pulse; pulsar:status reads it.
    'status_file' => env('PULSAR_STATUS_FILE', storage_path('framework/pulsar-status.json')),
    'status_history' => $number('PULSAR_STATUS_HISTORY', 20),
];

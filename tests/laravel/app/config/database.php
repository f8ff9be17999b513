<?php

declare(strict_types=1);

return [
    'default' => 'sqlite',
    'connections' => [
        'sqlite' => [
            'driver' => 'sqlite',
            'database' => env('DB_DATABASE', database_path('database.sqlite')),
            'prefix' => '',
            'foreign_key_constraints' => true,
            // PDO's busy timeout, in seconds: how long a worker waits for another's write lock.
            'options' => [PDO::ATTR_TIMEOUT => 20],
        ],
    ],
    'migrations' => 'migrations',
];

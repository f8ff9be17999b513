<?php

declare(strict_types=1);

namespace App\Providers;

use App\Database\ImmediatePdo;
use Illuminate\Database\Connection;
use Illuminate\Database\SQLiteConnection;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        // Several queue:work processes share one SQLite file: see ImmediatePdo.
        Connection::resolverFor('sqlite', static function ($connection, string $database, string $prefix, array $config) {
            $pdo = static fn(): ImmediatePdo => new ImmediatePdo('sqlite:' . $config['database'], null, null, [
                \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                \PDO::ATTR_TIMEOUT => (int) ($config['options'][\PDO::ATTR_TIMEOUT] ?? 20),
            ]);

            return new SQLiteConnection($pdo, $database, $prefix, $config);
        });
    }
}

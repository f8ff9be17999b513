<?php

declare(strict_types=1);

namespace PulsarTest\Support;

/** Free loopback ports, chosen by the kernel (never fixed numbers). */
final class Ports
{
    /**
     * $count distinct free ports: all listeners are held until every port is known, then closed.
     *
     * @return list<int>
     */
    public static function free(int $count): array
    {
        $servers = [];
        $ports = [];
        for ($i = 0; $i < $count; $i++) {
            $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
            if ($server === false) {
                throw new \RuntimeException("cannot bind a free port: $error");
            }
            $name = (string) stream_socket_get_name($server, false);
            $ports[] = (int) substr($name, strrpos($name, ':') + 1);
            $servers[] = $server;
        }
        foreach ($servers as $server) {
            fclose($server);
        }
        return $ports;
    }

    /**
     * The five Pulsar addresses on free ports, keyed by PulsarSocketsParamsDto setting name.
     *
     * @return array<string,string>
     */
    public static function pulsarAddresses(): array
    {
        $p = self::free(5);
        return [
            'replyToReplyStackSocketAddress' => "tcp://127.0.0.1:{$p[0]}",
            'pushToReplyStackSocketAddress' => "tcp://127.0.0.1:{$p[1]}",
            'publishSocketAddress' => "tcp://127.0.0.1:{$p[2]}",
            'pullSocketAddress' => "tcp://127.0.0.1:{$p[3]}",
            'replyStackSocketAddress' => "tcp://127.0.0.1:{$p[4]}",
        ];
    }
}

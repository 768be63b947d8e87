"""课程讲义中的模拟 SSH 服务端（修复版）。

监听 127.0.0.1:2222，使用 RSA 主机密钥，账号 test / 密码 123456。
登录后打印横幅和提示符 "> "，把收到的每一行回显为 "服务端收到指令：<行>"；
输入 exit 结束会话。每个客户端连接由一个线程服务（paramiko 的 Transport
本身也各占一个线程），所以它只适合练习，不适合成千上万的连接。

运行：python3 server.py [--host 127.0.0.1] [--port 2222]
"""

import argparse
import socket
import threading

import paramiko

BANNER = "=====本地模拟SSH服务=====\r\n输入任意指令，服务端回显内容\r\n"
PROMPT = "> "
ECHO = "服务端收到指令："
USER, PASSWORD = "test", "123456"


class EchoServer(paramiko.ServerInterface):
    """决定谁能登录、允许打开什么通道。"""

    def __init__(self):
        self.shell_requested = threading.Event()

    def check_auth_password(self, username, password):
        if username == USER and password == PASSWORD:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, *args):
        return True  # invoke_shell() 会先申请伪终端，这里照单全收

    def check_channel_shell_request(self, channel):
        self.shell_requested.set()
        return True


def serve_client(sock, addr, host_key):
    """服务一个客户端：握手、认证，然后逐行回显，直到 exit 或断开。"""
    transport = paramiko.Transport(sock)
    transport.add_server_key(host_key)
    server = EchoServer()
    try:
        transport.start_server(server=server)
        channel = transport.accept(20)  # 20 秒内没有打开通道就放弃
        if channel is None or not server.shell_requested.wait(10):
            return
        print(f"客户端 {addr} 登录成功", flush=True)
        channel.sendall((BANNER + PROMPT).encode())
        pending = b""
        while True:
            data = channel.recv(1024)
            if not data:  # 客户端关闭了通道
                break
            pending += data
            # 一次 recv 可能收到半行或多行：按行切开，剩下的留到下次
            while b"\n" in pending or b"\r" in pending:
                cut = min(i for i in (pending.find(b"\n"), pending.find(b"\r")) if i >= 0)
                line, pending = pending[:cut], pending[cut + 1:]
                command = line.decode("utf-8", "replace").strip()
                if command == "exit":
                    channel.close()
                    return
                if command:
                    channel.sendall(f"{ECHO}{command}\r\n".encode())
                channel.sendall(PROMPT.encode())
    except (paramiko.SSHException, EOFError, OSError) as error:
        print(f"客户端 {addr} 出错：{error}", flush=True)
    finally:
        print(f"客户端 {addr} 已退出", flush=True)
        transport.close()


def main():
    parser = argparse.ArgumentParser(description="课程的模拟 SSH 服务端（回显）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2222, help="0 表示由系统挑一个空闲端口")
    args = parser.parse_args()

    host_key = paramiko.RSAKey.generate(2048)  # 每次启动新生成：只用于练习
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(128)
    host, port = listener.getsockname()
    print(f"listening {host}:{port}", flush=True)  # 测试脚本靠这一行知道端口
    try:
        while True:
            sock, addr = listener.accept()
            threading.Thread(target=serve_client, args=(sock, addr, host_key), daemon=True).start()
    except KeyboardInterrupt:
        print("服务端停止", flush=True)


if __name__ == "__main__":
    main()

"""两个客户端共用的部分：命令行参数和登录。"""

import argparse

import paramiko

PROMPT = b"> "


def parse_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2222)
    parser.add_argument("--user", default="test")
    parser.add_argument("--password", default="123456")
    parser.add_argument("-n", "--count", type=int, default=5, help="会话（连接）个数")
    parser.add_argument("-c", "--command", default="hello", help="每个会话发送的指令")
    return parser.parse_args()


def login(args):
    """建立一个 SSH 连接并打开交互式 shell 通道。

    注意：密码错误后不要在同一个连接上重试（mtssh mock 用的 russh 会忽略第二次
    服务请求，客户端会一直等下去）；重试就是重新建立一个连接。
    """
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # 只对练习服务器这样做
    client.connect(args.host, port=args.port, username=args.user, password=args.password,
                   look_for_keys=False, allow_agent=False, timeout=20)
    channel = client.invoke_shell()
    return client, channel

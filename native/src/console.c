/* Terminals: the pty is created inside the container (its devpts instance) and the master goes to the caller
 * (podman's conmon) over the console socket, as runc and crun do. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "utils.h"

int be_console_connect(const char *path, int *fd, be_error_t *err) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path))
    return be_make_error(err, ENAMETOOLONG, "connect console socket `%s`", path);
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return be_make_error(err, errno, "socket for console `%s`", path);
  if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
    int e = errno;
    close(s);
    return be_make_error(err, e, "connect console socket `%s`", path);
  }
  *fd = s;
  return 0;
}

static int send_fd(int sock, int fd, be_error_t *err) {
  char name[] = "/dev/ptmx";
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof(u));
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (sendmsg(sock, &msg, 0) < 0)
    return be_make_error(err, errno, "send pty master over the console socket");
  return 0;
}

int be_console_setup(int sock, unsigned height, unsigned width, be_error_t *err) {
  cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return be_make_error(err, errno, "open `/dev/ptmx` in the container (is devpts mounted at /dev/pts?)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    return be_make_error(err, errno, "ioctl TIOCSPTLCK");
  /* TIOCGPTPEER opens the slave through the master, with no path lookup that a container could redirect. */
  cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0)
    return be_make_error(err, errno, "ioctl TIOCGPTPEER");
  if (height && width) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (send_fd(sock, master, err) < 0)
    return -1;
  if (setsid() < 0 && errno != EPERM)
    return be_make_error(err, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return be_make_error(err, errno, "ioctl TIOCSCTTY");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      return be_make_error(err, errno, "dup2 pty to fd %d", i);
  return 0;
}

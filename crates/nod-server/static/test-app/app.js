// test app

// Fetch a signed form token and put it in the field the service names.
fetch("/form-token").then((response) => response.json()).then((token) => {
  const field = document.querySelector('#commentform [name="form_token"]');
  field.name = token.field;
  field.value = token.token;
});

/* PLACEHOLDER: replaced by the real wrapper. */
int main(void)
{
	return 1;
}

% Text
% Lou has never married. He was paid $30000 on March 3rd, 2017.
% By hand: the question is about the §1(d)(ii) schedule alone, for a taxable income of
% $20,000: $2,767.50 plus 28% of the excess over $18,450, i.e. $2,767.50 + $434 = $3,201.50,
% stated to the cent: $3,201.75 is not it.

% Question
% Under section 1(d)(ii), the tax on a taxable income of $20000 is $3201.75. Contradiction

% Facts
:- [statutes/prolog/init].
payment_(lou_paid).
patient_(lou_paid,lou).
amount_(lou_paid,30000).
start_(lou_paid,"2017-03-03").

% Test
:- \+ s1_d_ii(20000,3201.75).
:- halt.
